for i = "1", "3" do io.write(i, " ") end print()
print(pcall(function() for i = 1, "x" do end end))
print(pcall(function() for i = 1, 2, 0 do break end end))
for i = 1, 2, 0.5 do io.write(i, " ") end print()
for i = 3, 1 do print("never") end
