print(pcall(coroutine.resume, 1))
print(pcall(coroutine.create, 1))
print(pcall(coroutine.wrap, nil))
print(pcall(coroutine.status, {}))
