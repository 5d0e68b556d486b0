local v = 1
local function set() v = 4 end
print(xpcall(function() error("x") end, function() error("y") end))
set()
print(v)
