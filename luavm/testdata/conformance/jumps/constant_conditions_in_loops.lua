-- A loop body beginning with an if or while that a constant decides: gopher-lua's
-- jump-to-jump pass sent the loop-back jump astray (the body ran once, then
-- registers were clobbered).
local function count(body)
  local n, seen = 0, {}
  for _, k in ipairs({ "a", "b", "c" }) do
    body(k)
    n = n + 1
    seen[#seen + 1] = k
  end
  return n .. " " .. table.concat(seen, ",")
end

local n = 0
for _, k in ipairs({ 1, 2, 3 }) do if false then return end n = n + 1 end
print("if false then return", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if nil then n = 100 end n = n + 1 end
print("if nil", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if false then n = 100 else n = n + 10 end n = n + 1 end
print("if false else", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if not true then return end n = n + 1 end
print("if not true", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if nil and k then return end n = n + 1 end
print("if nil and k", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if false or nil then return end n = n + 1 end
print("if false or nil", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if 1 or k then n = n + 1 end end
print("if 1 or k", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if "s" and k == 2 then n = n + 10 end n = n + 1 end
print("if 's' and k == 2", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do do if false then return end end n = n + 1 end
print("do if false", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do while false do n = 100 end n = n + 1 end
print("while false", n)

n = 0
for _, k in ipairs({ 1, 2, 3 }) do if false then elseif k == 2 then n = n + 10 end n = n + 1 end
print("if false elseif", n)

n = 0
repeat if false then return end n = n + 1 until n >= 3
print("repeat if false", n)

n = 0
repeat while nil do end n = n + 1 until n >= 3
print("repeat while nil", n)

n = 0
while n < 3 do if false then return end n = n + 1 end
print("while if false", n)

n = 0
while 1 do n = n + 1 if n >= 3 then break end end
print("while 1", n)

local t = {}
for i, k in ipairs({ "x", "y" }) do if false then t = nil end t[i] = k end
print("table after loop", #t, t[1], t[2])

print(count(function() end))
