print(#(1 .. ""), ("x"):rep("2"), string.len(12.5))
print(math.floor("3.7"), math.max("10", 9))
print(string.rep(5, 2))
