-- A loop body that is only a break (in a generic for or a repeat, nested in
-- another loop): gopher-lua's jump-to-jump pass made the inner loop-back
-- jump astray and the outer loop never ended.
local n, m = 0, 0
for _ in ipairs({ 1, 2 }) do
  n = n + 1
  for _ in ipairs({ 1, 2 }) do break end
  m = m + 1
end
print("for break", n, m)

n, m = 0, 0
for _ in ipairs({ 1, 2 }) do
  n = n + 1
  for _ in ipairs({ 1, 2 }) do do break end end
  m = m + 1
end
print("for do break", n, m)

n, m = 0, 0
for _ in ipairs({ 1, 2 }) do
  n = n + 1
  repeat break until false
  m = m + 1
end
print("repeat break", n, m)

n, m = 0, 0
for _ in ipairs({ 1, 2 }) do
  n = n + 1
  for _ in ipairs({ 1, 2 }) do if true then break end end
  m = m + 1
end
print("for if true break", n, m)

local calls = 0
local function iter(_, i)
  calls = calls + 1
  if i < 5 then return i + 1 end
end
for _ in iter, nil, 0 do break end
print("iterator calls", calls)

n, m = 0, 0
for _ in ipairs({ 1, 2 }) do
  n = n + 1
  while true do break end
  m = m + 1
end
print("while true break", n, m)

n, m = 0, 0
while n < 2 do
  n = n + 1
  for _ in ipairs({ 1, 2 }) do break end
  repeat do break end until false
  m = m + 1
end
print("while, for break, repeat do break", n, m)
