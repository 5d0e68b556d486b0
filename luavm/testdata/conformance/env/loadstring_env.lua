local f = loadstring("return z")
z = "global z"
print(f())
setfenv(f, {z = "env z"})
print(f())
local function outer()
  setfenv(1, {loadstring = loadstring, z = "outer env"})
  return loadstring("return z")()
end
print(outer())
