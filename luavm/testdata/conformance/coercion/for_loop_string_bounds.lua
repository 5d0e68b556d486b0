local out = {}
for i = "1", "3" do out[#out + 1] = i end
print(table.concat(out, " "))
