local out = {}
for i = "1", "3" do out[#out + 1] = i end
print(table.concat(out, " "))
print(pcall(function() for i = 1, "x" do end end))
print(pcall(function() for i = 1, 2, 0 do break end end))
out = {}
for i = 1, 2, 0.5 do out[#out + 1] = i end
print(table.concat(out, " "))
for i = 3, 1 do print("never") end
