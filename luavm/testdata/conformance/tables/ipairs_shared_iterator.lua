local f1 = ipairs({})
local f2 = ipairs({1})
print(f1 == f2, f1({5, 6}, 1))
local n = 0
for i, v in ipairs({1, 2, 3}) do n = n + i * v end
print(n)
