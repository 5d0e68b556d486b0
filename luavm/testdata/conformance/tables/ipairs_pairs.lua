local t = {10, 20, nil, 40}
local out = {}
for i, v in ipairs(t) do out[#out + 1] = i .. "=" .. v end
print(table.concat(out, " "))
local n = 0 for k, v in pairs({a = 1, b = 2, 3}) do n = n + 1 end print(n)
print(pcall(ipairs))
print(pcall(pairs, nil))
print(next({}), next({5}))
print(pcall(function() return ipairs(nil) end))
print(type(ipairs({})), select('#', ipairs({})))
