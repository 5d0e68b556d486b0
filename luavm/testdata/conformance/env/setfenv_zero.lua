local old = getfenv(0)
print(pcall(setfenv, 0, old))
print(select('#', setfenv(0, old)))
print(getfenv(0) == _G)
