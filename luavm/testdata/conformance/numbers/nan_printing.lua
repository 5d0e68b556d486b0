local nan = 0/0
print(nan ~= nan, nan == nan, type(nan))
print(math.huge - math.huge ~= math.huge - math.huge)
print(tostring(-(0/0)) == tostring(0/0) or "sign differs")
