local up = nil
print(pcall(function() return up + 1 end))
print(pcall(function() local a = "x"; return a + 1 end))
print(pcall(function() return nosuch.field end))
print(pcall(function() local t = {}; return t.a.b end))
print(pcall(function() local t = {}; t.f() end))
print(pcall(function() local t = {}; t:m() end))
