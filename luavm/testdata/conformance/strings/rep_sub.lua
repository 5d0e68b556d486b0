print(string.rep("ab", 3), string.rep("x", 0), string.rep("x", -1), string.rep("", 5), string.rep("a", 2.7))
print(string.sub("hello", 2, 4), string.sub("hello", -3), string.sub("hello", -3, -2), string.sub("hello", 0))
print(string.sub("hello", 10), string.sub("hello", 3, 2), string.sub("hello", -100, 2), string.sub("hello", 2, 100))
print(("hello"):sub(2), ("x"):rep(3), #("abc"):upper())
