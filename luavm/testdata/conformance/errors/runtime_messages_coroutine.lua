-- runtime errors inside coroutines name their variables as elsewhere
local co = coroutine.create(function() local x; return x.y end)
print(coroutine.resume(co))
print(pcall(coroutine.wrap(function() return nosuch() end)))
co = coroutine.create(function() coroutine.yield(1); local n; return n + 1 end)
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.resume(coroutine.create(function() return pcall(function() local z; z() end) end)))
