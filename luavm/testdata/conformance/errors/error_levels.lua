local function f(level) error("msg", level) end
local function g(level) f(level) end
print(pcall(f, 0))
print(pcall(f, 1))
print(pcall(g, 2))
print(pcall(g, 3))
print(pcall(function() g(2) end))
print(pcall(error))
print(pcall(error, nil))
