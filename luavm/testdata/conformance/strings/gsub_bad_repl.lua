print(pcall(string.gsub, "abc", "b", true))
print(pcall(string.gsub, "abc", "b"))
print(string.gsub("abc", "b", 5))
