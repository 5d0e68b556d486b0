local v = "a"
local co = coroutine.wrap(function()
  local w = 1
  local function setw() w = 2 end
  print(pcall(error, "x", 0))
  setw()
  v = w
  coroutine.yield(w)
  setw()
  return w + 1
end)
print(co())
print(v)
print(co())
