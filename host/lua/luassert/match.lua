-- luassert.match look-alike (stands in for lunarmodules/luassert's match):
-- matchers for spy arguments and stub rules. match._ matches anything;
-- match.is_<assertion>(...) matches a value v when the assertion holds
-- for (..., v) (match.is_table(), match.is_same({...}), match.matches("^a"));
-- is_not/no negate; match.is_ref(x) is identity; all_of, any_of, none_of
-- combine matchers; matchers registered with assert:register("matcher",
-- name, fn(state, args)) are found by name.
local luassert = require "luassert"

local match = {}

local function new(name, fn)
  return setmetatable({ name = name, fn = fn }, luassert.matcher_mt)
end

match._ = new("_", function() return true end)
match.is_matcher = luassert.is_matcher

local combinators = {
  ref = function(args) return function(v) return v == args[1] end end,
  all_of = function(args) return function(v)
    for i = 1, args.n do if not args[i](v) then return false end end
    return true
  end end,
  any_of = function(args) return function(v)
    for i = 1, args.n do if args[i](v) then return true end end
    return false
  end end,
  none_of = function(args) return function(v)
    for i = 1, args.n do if args[i](v) then return false end end
    return true
  end end,
}

local words = { is = true, are = true, was = true, has = true, does = true, ["not"] = "neg", no = "neg" }

local function resolve(key, neg)
  local w = {}
  for part in key:lower():gmatch("[^_]+") do w[#w + 1] = part end
  local i = 1
  while i <= #w do
    local rest = table.concat(w, "_", i)
    local a = luassert.assertions[rest]
    local c = combinators[rest] or luassert.matchers[rest]
    if a or c then
      return function(...)
        local args = luassert.pack(...)
        local test
        if combinators[rest] then
          test = combinators[rest](args)
        elseif c then
          test = c({ mod = true }, args)
        else
          test = function(v)
            local margs = luassert.pack(unpack(args, 1, args.n))
            margs[margs.n + 1], margs.n = v, margs.n + 1
            local ok, res = pcall(a.fn, setmetatable({ mod = true }, {}), margs, 1)
            return ok and res and true or false
          end
        end
        return new(key, function(v)
          local r = test(v) and true or false
          if neg then return not r end
          return r
        end)
      end
    elseif words[w[i]] then
      if words[w[i]] == "neg" then neg = not neg end
      i = i + 1
    else
      error("luassert.match: unknown matcher '" .. key .. "'", 3)
    end
  end
  return setmetatable({}, { __index = function(_, k) return resolve(k, neg) end })
end

return setmetatable(match, { __index = function(_, key) return resolve(key, false) end })
