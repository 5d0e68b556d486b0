local function seq()
  local t = {}
  for i = 1, 5 do t[i] = math.random(1, 1000) end
  return table.concat(t, ",")
end
math.randomseed(7)
local a = seq()
math.randomseed(7)
print(a == seq(), math.random(3, 3))
