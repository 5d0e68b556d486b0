math.randomseed(42)
local ok = true
for i = 1, 100 do
  local r = math.random(1, 6)
  if r < 1 or r > 6 or r ~= math.floor(r) then ok = false end
  local f = math.random()
  if f < 0 or f >= 1 then ok = false end
end
print(ok)
print(pcall(math.random, 2, 1))
print(pcall(math.random, 1, 2, 3))
print(math.random(1, 1), math.random(1))
