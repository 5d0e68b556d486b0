local nan = 0/0
print(math.max(1, 5, 3), math.min(1, 5, 3), math.max(-1), math.min(2.5, 2))
print(math.max(nan, 1) ~= math.max(nan, 1), math.max(1, nan))
print(math.min(nan, 1) ~= math.min(nan, 1), math.min(1, nan))
print(pcall(math.max))
print(pcall(math.min))
