print(string.format("%d", "10"), string.format("%s", 1.5), string.format("%s", 10))
print(string.format("%d", 3.7), string.format("%d", -3.7))
print(string.format("%.14g", 0.1), string.format("%5.2s", 12345))
print(string.format("%s %s", 1, 2))
