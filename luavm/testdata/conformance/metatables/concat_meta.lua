local mt = {__concat = function(a, b)
  local av = type(a) == "table" and "T" or tostring(a)
  local bv = type(b) == "table" and "T" or tostring(b)
  return av .. "+" .. bv
end}
local t = setmetatable({}, mt)
print(t .. "s", "s" .. t, 1 .. t, t .. t)
print("a" .. "b" .. t .. "c")
print(pcall(function() return {} .. "x" end))
print(pcall(function() return "x" .. true end))
