local t = setmetatable({}, {__tostring = function() return "T!" end})
print(string.format("%s|%s|%s", t, nil, true))
