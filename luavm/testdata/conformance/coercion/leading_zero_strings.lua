print("010" + 0, "010" * 3, "0755" - 0, "08" + 0, -"010", "010" / 2)
print(pcall(function() return "0b11" + 0 end))
print(pcall(function() return "1_000" + 0 end))
print(pcall(function() return "0o17" + 0 end))
