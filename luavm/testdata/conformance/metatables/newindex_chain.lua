local store = {}
local t = setmetatable({}, {__newindex = store})
t.x = 1
print(rawget(t, "x"), store.x)
local log = {}
local u = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k .. "=" .. tostring(v); rawset(t, k, v) end})
u.a = 1; u.a = 2; u.b = nil
print(table.concat(log, " "), u.a)
local chained = setmetatable({}, {__newindex = setmetatable({}, {__newindex = function(_, k, v) print("inner", k, v) end})})
chained.q = 5
print(rawget(chained, "q"))
