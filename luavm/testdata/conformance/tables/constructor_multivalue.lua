-- the last item of a constructor gives all the values of a call or of ...
local function three() return 1, nil, 3 end
local function trailing() return "x", nil, nil end
local function none() end

local t = { "a", "b", three() }
print(#t, t[1], t[2], t[3], t[4], t[5], t[6])
local u = { three(), three() }
print(#u, u[1], u[2], u[3], u[4], u[5])
local w = { "a", trailing() }
print(#w, w[1], w[2], w[3], w[4])
local e = { "a", none() }
print(#e, e[1], e[2])
local p = { "a", (three()) }
print(#p, p[1], p[2], p[3])
local k = { three(), key = "v" }
print(#k, k[1], k[2], k.key)

local function va(...) return { "p", ... } end
local z = va(1, nil, 3)
print(#z, z[1], z[2], z[3], z[4], z[5])
local function va2(...) return { ..., "q" } end
local z2 = va2(7, 8)
print(#z2, z2[1], z2[2], z2[3])

-- past one block of 50, and keyed fields in the last block
local n = {}
for i = 1, 60 do n[i] = tostring(i) end
local big = assert(loadstring("return { " .. table.concat(n, ", ") .. ", [61] = 'k', ... }"))
local r = big("x", "y")
print(#r, r[1], r[50], r[60], r[61], r[62], r[63])
local r2 = big()
print(#r2, r2[60], r2[61])
