local t = {1, 2, 3}
print(table.remove(t, 5), #t)
print(table.remove(t, 2), table.concat(t, ","))
print(table.remove(t, 0), #t)
local u = {n = 1}
print(table.remove(u), u.n)
print(select('#', table.remove({})))
