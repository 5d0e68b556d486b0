print(coroutine.running())
local co
co = coroutine.create(function()
  print(coroutine.status(co), coroutine.running() == co)
  coroutine.yield()
end)
print(coroutine.status(co))
coroutine.resume(co)
print(coroutine.status(co))
