local v = 1
local function set() v = 2 end
print(pcall(rawset))
set()
print(v)
print(pcall(setmetatable, 1, {}))
set()
print(v)
