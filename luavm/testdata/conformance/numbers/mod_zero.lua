local z = 0
print(5 % z, -5 % z, 0 % z)
