local t = setmetatable({}, {__gc = function() print("gc") end, __mode = "k"})
print(getmetatable(t).__mode, type(collectgarbage("count")))
print(collectgarbage("collect"), collectgarbage())
