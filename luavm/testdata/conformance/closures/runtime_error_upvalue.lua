local n = 0
local function inc() n = n + 1 end
print(pcall(function() local x = nil; return x.y end) == false)
inc(); inc()
print(n)
