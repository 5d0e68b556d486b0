local mt = {}
for _, op in ipairs({"add", "sub", "mul", "div", "mod", "pow", "unm"}) do
  mt["__" .. op] = function(a, b) return op end
end
local t = setmetatable({}, mt)
print(t + 1, 1 - t, t * t, t / 2, t % 2, t ^ 2, -t)
print("10" + t, pcall(function() return t + nil end))
