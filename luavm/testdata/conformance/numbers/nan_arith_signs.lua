local z, i = 0, 1/0
print(0/z, -(0/z), i - i, i * 0, (-8)^(1/3), z * (0/z))
