local mt = {__eq = function(a, b) print("__eq called") return true end}
local a, b = setmetatable({}, mt), setmetatable({}, mt)
print(a == b, a ~= b)
print(a == 1, a == "x", a == nil)
local c = setmetatable({}, {__eq = function() return true end})
print(a == c)
local d = setmetatable({}, {__eq = mt.__eq})
print(a == d)
print(a == a)
