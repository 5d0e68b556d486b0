local function check(x)
  if type(x) ~= "number" then
    error("expected number, got " .. type(x), 2)
  end
  return x
end
local function caller()
  return check("s")
end
print(pcall(caller))
