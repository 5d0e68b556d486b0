local t = {"a", "b"}
table.insert(t, 3, "c") print(table.concat(t, ","))
table.insert(t, 0, "z") print(t[0], table.concat(t, ","))
table.insert(t, -1, "neg") print(t[-1], #t)
local u = {1, 2, 3}
table.insert(u, 2, nil) print(u[1], u[2], u[3], u[4])
