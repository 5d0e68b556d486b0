local v = 0
local function set(x) v = x end
print(pcall(function()
  local w = 1
  local function setw(x) w = x end
  print(pcall(error, "inner"))
  setw(5)
  set(w)
  error("outer", 0)
end))
print(v)
