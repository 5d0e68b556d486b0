print(#(1 .. ""), string.len(12.5), math.floor("3.7"), math.max("10", 9))
