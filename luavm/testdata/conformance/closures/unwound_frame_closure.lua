local get, set
print(pcall(function()
  local x = 41
  get = function() return x end
  set = function(v) x = v end
  x = 42
  error("boom", 0)
end))
local filler = {1, 2, 3, 4, 5, 6, 7, 8}
print(get())
set(7)
print(get())
