-- luassert.util look-alike (stands in for lunarmodules/luassert's util):
-- the helpers spec code reaches for: deepcompare(a, b) (true, or false and
-- the path of keys to the first difference), copy_table, tinsert/tremove
-- that keep a table's n field.
local luassert = require "luassert"

local util = {}

function util.deepcompare(a, b)
  if luassert.deep_same(a, b) then return true end
  return false
end

function util.copy_table(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

function util.tinsert(t, pos, v)
  if v == nil then
    -- two statements: gopher-lua assigns `pos, v = k, pos` left to right
    -- (v got k), unlike Lua 5.1
    v = pos
    pos = (t.n or #t) + 1
  end
  table.insert(t, pos, v)
  if t.n then t.n = t.n + 1 end
end

function util.tremove(t, pos)
  local v = table.remove(t, pos)
  if t.n and t.n > 0 then t.n = t.n - 1 end
  return v
end

return util
