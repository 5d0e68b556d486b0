local fs = {}
for i = 1, 3 do
  local j = i * 10
  fs[i] = function() j = j + 1 return i, j end
end
print(fs[1](), fs[2](), fs[3]())
print(fs[1]())
local ok = pcall(function()
  for i = 1, 3 do
    fs[i] = function() return i end
    if i == 2 then error("stop") end
  end
end)
print(ok, fs[1](), fs[2]())
