local v = 1
local function set() v = 3 end
print(pcall(function()
  pcall(function() end)
  error("after", 0)
end))
set()
print(v)
