local f = coroutine.wrap(function() error("wrapped") end)
print(pcall(f))
local g = coroutine.wrap(function() error("lvl0", 0) end)
print(pcall(g))
