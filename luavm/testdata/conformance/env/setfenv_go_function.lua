print(pcall(setfenv, print, {}))
print(pcall(setfenv, 1.5, {}))
print(pcall(getfenv, "x"))
