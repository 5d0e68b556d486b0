local s = "hello"
print(s.len == string.len, s:len(), ("x").upper == string.upper)
string.custom = function(self) return "custom " .. self end
print(s:custom())
print(pcall(function() return s.nope() end))
