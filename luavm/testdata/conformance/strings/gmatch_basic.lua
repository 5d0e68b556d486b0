local out = {}
for w in string.gmatch("one two  three", "%a+") do out[#out + 1] = w end
print(table.concat(out, ";"))
out = {}
for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do out[#out + 1] = k .. v end
print(table.concat(out, ";"))
out = {}
for p in string.gmatch("abc", "()") do out[#out + 1] = p end
print(table.concat(out, ","))
out = {}
for x in string.gmatch("", "x*") do out[#out + 1] = "[" .. x .. "]" end
print(table.concat(out), #out)
