local function check(x)
  if type(x) ~= "number" then error("bad " .. type(x), 2) end
  return x
end
local function direct() local v = check("s") return v end
print(pcall(direct))
