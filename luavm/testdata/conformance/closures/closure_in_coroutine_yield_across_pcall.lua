local log = {}
local co = coroutine.create(function()
  local x = 0
  local function bump() x = x + 1 end
  local ok, e = pcall(function()
    bump()
    error("inside", 0)
  end)
  log[#log + 1] = tostring(ok) .. ":" .. e
  bump()
  coroutine.yield(x)
  bump()
  return x
end)
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.resume(co))
print(log[1])
