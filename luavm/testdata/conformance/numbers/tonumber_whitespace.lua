print(tonumber(" 10 "), tonumber("\t10\n"), tonumber("1 0"), tonumber(""), tonumber(" "))
print(tonumber("10a"), tonumber("+10"), tonumber("- 1"), tonumber("--1"), tonumber("\v5\f"))
