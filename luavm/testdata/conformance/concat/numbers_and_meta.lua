local n = 0.1
print(n .. "", 1e15 .. "", 2^53 .. "", -n .. "|", 1/3 .. "")
local mt = {__concat = function(a, b) return "M" end}
local t = setmetatable({}, mt)
print(t .. 1 .. 2, 1 .. 2 .. t, (1 .. t) .. 2)
print(pcall(function() return {} .. "" end))
