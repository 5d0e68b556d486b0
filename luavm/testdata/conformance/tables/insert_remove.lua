local t = {1, 2, 3}
table.insert(t, 4) table.insert(t, 1, 0) print(table.concat(t, ","))
print(table.remove(t), table.remove(t, 1), table.concat(t, ","))
print(table.remove({}), #t)
local e = {} print(table.remove(e, 1), table.remove(e, 0))
table.insert(t, 10, "x") print(t[10], t[4], t[9])
print(pcall(table.insert, t, 1, 2, 3))
print(pcall(table.insert, t))
