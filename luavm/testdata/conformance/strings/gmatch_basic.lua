for w in string.gmatch("one two  three", "%a+") do io.write(w, ";") end print()
for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do io.write(k, v, ";") end print()
for p in string.gmatch("abc", "()") do io.write(p, ",") end print()
for x in string.gmatch("", "x*") do io.write("[", x, "]") end print()
