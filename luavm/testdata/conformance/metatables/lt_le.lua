local mt = {}
mt.__lt = function(a, b) return a.v < b.v end
local x, y = setmetatable({v = 1}, mt), setmetatable({v = 2}, mt)
print(x < y, y < x, x > y)
print(pcall(function() return x <= y end))
mt.__le = function(a, b) return a.v <= b.v end
print(x <= y, y >= x)
local only_lt = {__lt = function(a, b) return a.v < b.v end}
local p, q = setmetatable({v = 3}, only_lt), setmetatable({v = 3}, only_lt)
print(p <= q)
print(pcall(function() return x < 1 end))
print(pcall(function() return setmetatable({}, mt) < setmetatable({}, {__lt = mt.__lt}) end))
