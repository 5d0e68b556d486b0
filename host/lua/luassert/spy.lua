-- luassert.spy look-alike (stands in for lunarmodules/luassert's spy):
-- spy.new(fn) / spy(fn) wraps a function and records each call's
-- arguments (calls[i].vals) and return values (calls[i].returnvals);
-- spy.on(t, key) replaces t[key] with a spy of it; s:revert() puts the
-- original back, s:clear() forgets the calls; s:called(n),
-- s:called_with(args), s:returned_with(args) answer without failing.
local luassert = require "luassert"

local spy = {}
local methods = {}
local spy_mt = { __index = methods }

local function pack(...) return { n = select("#", ...), ... } end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

spy_mt.__call = function(self, ...)
  local call = { vals = copy(pack(...)), refs = pack(...) }
  table.insert(self.calls, call)
  local rets = pack(self.callback(...))
  call.returnvals = rets
  table.insert(self.returnvals, rets)
  return unpack(rets, 1, rets.n)
end

spy_mt.__tostring = function() return "spy" end

function methods:clear()
  self.calls, self.returnvals = {}, {}
  return self
end

function methods:revert()
  if self.target_table ~= nil then
    self.target_table[self.target_key] = self.original
    self.target_table = nil
  end
  return self.original
end

function methods:called(n)
  if n == nil then return #self.calls > 0 end
  return #self.calls == n
end

function methods:called_with(args)
  for _, c in ipairs(self.calls) do
    if luassert.args_match(args, c.vals) then return true end
  end
  return false
end

function methods:returned_with(args)
  for _, c in ipairs(self.calls) do
    if luassert.args_match(args, c.returnvals) then return true end
  end
  return false
end

function spy.new(callback)
  if callback ~= nil and type(callback) ~= "function" and not (getmetatable(callback) or {}).__call then
    error("Cannot spy on type '" .. type(callback) .. "', only on functions or callable elements", 2)
  end
  return setmetatable({ calls = {}, returnvals = {}, callback = callback or function() end }, spy_mt)
end

function spy.on(t, key)
  local s = spy.new(t[key])
  s.target_table, s.target_key, s.original = t, key, t[key]
  t[key] = s
  return s
end

function spy.is_spy(v) return getmetatable(v) == spy_mt end

spy.mt = spy_mt

return setmetatable(spy, { __call = function(_, fn) return spy.new(fn) end })
