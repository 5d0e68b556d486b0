local function g(p) p = p .. "!" return p end
print(pcall(g, "q"))
local function h(a) a = "x" .. a return a end
print(pcall(h, 5))
local function k(a) a = (-a) .. "x" return a end
print(pcall(k, 5))
local function m(a) a = (a + 1) .. "x" return a end
print(pcall(m, 5))
