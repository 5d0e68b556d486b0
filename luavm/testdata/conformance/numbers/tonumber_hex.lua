print(tonumber("0x10"), tonumber("0X1f"), tonumber("-0x10"), tonumber("0x"), tonumber("0xg"))
print(tonumber("  0x10  "), tonumber("0x1p4"), tonumber("0x.8"), tonumber("0x10", 16), tonumber("10", 16))
print(tonumber("0xffffffff"), tonumber("0x7fffffffffffffff"))
