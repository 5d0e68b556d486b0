-- statements that assign locals of an enclosing function, loops with break,
-- repeat-until seeing the body's locals, and globals, in one chunk
local count = 0
local M = {}
M.a = "x"
count = count + 1
for i = 1, 3 do
  M["k" .. i] = i
  count = count + i
  if i == 2 then break end
end
while true do
  M.w = "w"
  break
end
repeat
  local z = count
  M.r = z
until z > 0
local function get() return count end
count = count + 10
G_CONSTRUCTOR_TEST = { count, get() }
do
  local inner = 5
  M.inner = inner
  count = count + inner
end
print(M.a, M.k1, M.k2, M.k3, M.w, M.r, M.inner, get(), G_CONSTRUCTOR_TEST[1], G_CONSTRUCTOR_TEST[2])

-- a function that returns from inside a loop
local function find(t, x)
  for i = 1, #t do
    local v = t[i]
    if v == x then return i end
  end
  return nil
end
print(find({ "a", "b", "c" }, "b"), find({ "a" }, "z"))

-- a runtime error inside a constructor names the line of its field
local ok, err = pcall(function()
  local t = {
    a = 1,
    b = error("boom"),
  }
  return t
end)
print(ok, err)
