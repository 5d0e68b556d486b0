print(tonumber("010"), tonumber("0755"), tonumber("08"), tonumber("-010"), tonumber("00x10"), tonumber("0010.5"))
print(math.floor("010"), math.max("010", 9), select("02", "a", "b"))
