print("10" == 10, "a" < "b", "Z" < "a", "" < "a", "10" < "9", "abc" < "abd")
print(pcall(function() return "10" < 9 end))
print("a\0b" < "a\0c", "a" < "a\0")
