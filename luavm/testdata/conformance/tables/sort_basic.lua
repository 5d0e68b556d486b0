local t = {5, 2, 8, 1, 9, 3}
table.sort(t) print(table.concat(t, " "))
table.sort(t, function(a, b) return a > b end) print(table.concat(t, " "))
local s = {"b", "a", "C", "c"} table.sort(s) print(table.concat(s, " "))
local e = {} table.sort(e) print(#e)
local one = {1} table.sort(one) print(one[1])
