local t = {10, 20, nil, 40}
for i, v in ipairs(t) do io.write(i, "=", v, " ") end print()
local n = 0 for k, v in pairs({a = 1, b = 2, 3}) do n = n + 1 end print(n)
print(pcall(ipairs))
print(pcall(pairs, nil))
print(next({}), next({5}))
print(pcall(next, {}, "nokey"))
print(type(ipairs({})), select('#', ipairs({})))
