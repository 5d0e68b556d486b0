-- luassert.stub look-alike (stands in for lunarmodules/luassert's stub):
-- stub(t, key, ...) replaces t[key] with a spy that returns the given
-- values (none by default) instead of calling the original; stub.new()
-- alone is a standalone stub. s.returns(...), s.invokes(fn) change what it
-- does; s.on_call_with(...).returns(...)/.invokes(fn) for matching
-- arguments (matchers allowed); s:revert() restores t[key].
local luassert = require "luassert"
local spy = require "luassert.spy"

local stub = {}

local function pack(...) return { n = select("#", ...), ... } end

function stub.new(t, key, ...)
  local default = { values = pack(...) }
  local rules = {}
  local s
  s = spy.new(function(...)
    local args = pack(...)
    local act = default
    for _, r in ipairs(rules) do
      if luassert.args_match(r.args, args) then
        act = r
        break
      end
    end
    if act.fn then return act.fn(...) end
    return unpack(act.values, 1, act.values.n)
  end)
  -- s.returns(...) and s:returns(...) both work
  local function strip(first, ...)
    if first == s then return pack(...) end
    return pack(first, ...)
  end
  s.returns = function(...)
    default = { values = strip(...) }
    return s
  end
  s.invokes = function(...)
    local fn = strip(...)[1]
    default = { fn = fn }
    return s
  end
  s.on_call_with = function(...)
    local rule = { args = strip(...), values = pack() }
    table.insert(rules, 1, rule)
    local r = {}
    r.returns = function(...) rule.values = pack(...) return s end
    r.invokes = function(fn) rule.fn = fn return s end
    return r
  end
  if type(t) == "table" and key ~= nil then
    s.target_table, s.target_key, s.original = t, key, rawget(t, key)
    t[key] = s
  end
  return s
end

function stub.is_stub(v) return spy.is_spy(v) end

return setmetatable(stub, { __call = function(_, ...) return stub.new(...) end })
