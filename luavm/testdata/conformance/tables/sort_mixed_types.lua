print(pcall(table.sort, {1, "a", 2}))
print(pcall(table.sort, {{}, {}}))
print(pcall(table.sort, {1, nil, 3}))
