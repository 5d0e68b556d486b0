local function g()
  setfenv(2, {print = print, y = "level2"})
end
local function f()
  g()
  return y
end
print(f())
local function h()
  setfenv(1, {y = "self"})
  return y
end
print(h())
print(pcall(setfenv, 50, {}))
