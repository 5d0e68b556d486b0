print(pcall(tostring))
print(pcall(pcall))
print(pcall(xpcall))
print(pcall(table.concat, {{}}))
