local t = {name = "lua", ver = 5.1, flag = false}
print(string.gsub("$name $ver $missing $flag", "%$(%w+)", t))
print(string.gsub("a b", "%w", {a = 1}))
print(pcall(string.gsub, "a", "a", {a = {}}))
