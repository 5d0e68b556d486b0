print(loadstring("x = = 1"))
print(loadstring("x = ", "=name"))
