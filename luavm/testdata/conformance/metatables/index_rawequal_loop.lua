local t = setmetatable({}, {})
getmetatable(t).__index = t
print(pcall(function() return t.missing end))
