local v = 1
local function set() v = 2 end
print(pcall(string.rep))
set()
print(v)
print(pcall(setmetatable, 1, {}))
set()
print(v)
