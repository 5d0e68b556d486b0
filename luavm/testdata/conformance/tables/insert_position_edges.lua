local t = {"a", "b"}
table.insert(t, 3, "c") print(t[1], t[2], t[3])
table.insert(t, 0, "z") print(t[0], t[1], t[2], t[3], t[4])
table.insert(t, -1, "neg") print(t[-1], t[0], t[1])
local u = {1, 2, 3}
table.insert(u, 2, nil) print(u[1], u[2], u[3], u[4])
