print(pcall(function() for i = 1, 2, 0 do break end end))
local out = {}
for i = 1, 2, 0.5 do out[#out + 1] = i end
print(table.concat(out, " "))
for i = 3, 1 do print("never") end
