print(("x"):rep("2"), string.rep(5, 2), string.sub(12345, "2", "3"))
