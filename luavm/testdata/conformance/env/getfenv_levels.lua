print(getfenv() == _G, getfenv(0) == _G, getfenv(1) == _G)
local function f() return getfenv(1), getfenv(2) end
local e1, e2 = f()
print(e1 == _G, e2 == _G)
print(getfenv(print) == _G, getfenv(f) == _G)
print(pcall(getfenv, 10))
print(pcall(getfenv, -1))
