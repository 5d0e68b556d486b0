local base = {a = "base-a"}
local mid = setmetatable({b = "mid-b"}, {__index = base})
local top = setmetatable({}, {__index = mid})
print(top.a, top.b, top.c)
local fn = setmetatable({}, {__index = function(t, k) return k .. "!" end})
print(fn.x, fn[1], rawget(fn, "x"))
local mixed = setmetatable({}, {__index = setmetatable({}, {__index = function(_, k) return "deep " .. k end})})
print(mixed.z)
