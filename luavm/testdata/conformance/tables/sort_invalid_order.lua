local t = {}
for i = 1, 100 do t[i] = (i * 37) % 17 end
local ok, e = pcall(table.sort, t, function(a, b) return true end)
print(ok, e)
