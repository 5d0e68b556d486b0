local a, b = 1, 2
a, b = 10, a
print(a, b)
local function f(x, y) x, y = 5, x return x, y end
print(f(1, 2))
local t = {}
local i = 1
i, t[i] = i + 1, 20
print(i, t[1], t[2])
c = 1
c, d = 7, c
print(c, d)
-- in loops, nested functions, with fewer or more values than names
local x, y = 1, 2
for k = 1, 3 do
  x, y = y, x + y
end
print(x, y)
local function g()
  local p, q, r = 1, 2, 3
  p, q, r = q, p
  return p, q, r
end
print(g())
local function two() return 100, 200, 300 end
local m, n = 1, 2
m, n = n, two()
print(m, n)
local u, v = 1, 2
repeat u, v = v, u until true
print(u, v)
local s = 5
local h = function() return s end
s, s2 = 6, h()
print(s, s2)
