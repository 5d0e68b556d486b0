local co = coroutine.create(function() error({code = 7}) end)
local ok, e = coroutine.resume(co)
print(ok, type(e), e.code)
