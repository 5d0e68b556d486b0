print(pcall(table.sort, {3, 2, 1}, function(a, b) error("cmp", 0) end))
print(pcall(table.sort, {3, 2, 1}, 5))
print(pcall(table.sort, "x"))
