print(3 % math.huge, -3 % math.huge, 3 % -math.huge)
