local t = setmetatable({}, {__tostring = function() return "OBJ" end})
print(t, tostring(t))
local bad = setmetatable({}, {__tostring = function() return 42 end})
print(tostring(bad))
print(pcall(function() print(setmetatable({}, {__tostring = function() return {} end})) end))
local named = setmetatable({}, {__tostring = function(self) return "named:" .. rawget(self, "n") end})
named.n = "x"
print(named)
