-- a constructor evaluates its fields in order; keyed fields are set when
-- met, positional items at the end of each block of 50 (so a positional item
-- wins over a keyed field of the same block with its index)
local log = {}
local function v(x) log[#log + 1] = tostring(x) return x end

local t = { v("a"), [v(1)] = v("k1"), v("b"), x = v("x"), [v(2)] = v("k2"), [v(3)] = v("k3") }
print(table.concat(log, " "))
print(t[1], t[2], t[3], t.x)

log = {}
local t2 = { [v(1)] = v("k"), v("p") }
print(table.concat(log, " "), t2[1])

-- 120 items with keyed fields on indices of their own block and of others
local parts = {}
for i = 1, 120 do
  parts[#parts + 1] = ("%q"):format("i" .. i)
  if i == 10 then parts[#parts + 1] = "[5] = 'k5', [55] = 'k55'" end
  if i == 60 then parts[#parts + 1] = "[55] = 'k55b', [101] = 'k101'" end
  if i == 100 then parts[#parts + 1] = "[100] = 'k100', [30] = 'k30'" end
end
parts[#parts + 1] = "[120] = 'k120', [121] = 'k121', name = 'n'"
local big = assert(loadstring("return { " .. table.concat(parts, ", ") .. " }"))()
print(#big, big[5], big[30], big[55], big[100], big[101], big[120], big[121], big.name)

-- hash keys come back from next in the order they were set
local h = { z = 1, y = 2, x = 3, [10.5] = 4, w = 5, [true] = 6 }
local keys = {}
for k in pairs(h) do keys[#keys + 1] = tostring(k) end
table.sort(keys)
print(table.concat(keys, " "))

-- a table index that is nil or NaN is an error
print(pcall(function() local n return { 1, [n] = 2 } end))
print(pcall(function() return { [0/0] = 1 } end))
