local function f() return x end
local env = {x = "from env"}
setfenv(f, env)
print(f(), getfenv(f) == env)
x = "global"
print(f())
print(setfenv(f, _G) == f)
print(f())
print(pcall(setfenv, f, 5))
