print(tonumber(nil), tonumber(true), tonumber({}) , tonumber(5), tonumber(-0.5))
print(pcall(tonumber))
print(tonumber("inf"), tonumber("nan"), tonumber("infinity"), tonumber("-inf"))
