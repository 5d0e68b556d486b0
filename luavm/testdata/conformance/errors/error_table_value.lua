local t = {code = 42}
local ok, e = pcall(error, t)
print(ok, e == t, e.code)
ok, e = pcall(function() error(t, 2) end)
print(ok, e == t)
ok, e = pcall(error, setmetatable({}, {__tostring = function() return "custom" end}))
print(ok, tostring(e))
