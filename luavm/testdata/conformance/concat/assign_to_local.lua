local s = "a"
s = s .. "b"
print(s)
local function f() local t = "x" t = t .. 1 .. t return t end
print(f())
local function k(p) local q = p q = "<" .. q .. ">" return q end
print(k("r"))
local t = {v = "f"}
t.v = t.v .. "g"
print(t.v)
