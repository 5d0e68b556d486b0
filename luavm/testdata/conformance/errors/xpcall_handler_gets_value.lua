print(xpcall(function() error({1, 2, 3}) end, function(e) return #e end))
print(xpcall(function() error("s") end, function(e) return "handled: " .. e end))
print(xpcall(function() error("rt") end, function(e) return e end))
print(xpcall(error, function(e) return e end))
