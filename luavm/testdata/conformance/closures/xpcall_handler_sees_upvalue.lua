local v = "a"
local function set(x) v = x end
print(xpcall(function() set("in") error({}) end, function(e) return type(e) .. v end))
set("b")
print(v)
