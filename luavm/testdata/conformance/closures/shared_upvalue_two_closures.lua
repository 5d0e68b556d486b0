local function mk()
  local n = 0
  return function() n = n + 1 return n end, function() return n end
end
local inc, get = mk()
inc()
print(pcall(function() inc() error("e", 0) end))
inc()
print(get())
