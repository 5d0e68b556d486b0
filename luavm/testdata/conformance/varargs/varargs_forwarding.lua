local function f(...) return select('#', ...), ... end
print(f())
print(f(nil))
print(f(nil, nil))
print((f(1, 2, 3)))
local function g(...) local a, b = ... return a, b end
print(g(1))
local function h(...) local t = {...} return #t, t[1] end
print(h(1, 2, 3))
local function tail(...) return ... end
print(tail(1, nil, 3))
print(f(tail(nil, nil)))
