-- luassert look-alike (stands in for Olivine-Labs/luassert): the global
-- `assert` of busted specs. Covers assert(v, msg), the modifier chains
-- (is, are, was, has, does, is_not, are_not, has_no, no, not) and the
-- assertions plugin specs use: equal(s), same, truthy, falsy, True, False,
-- nil, error(s), error_matches, matches, near, unique, and type checks
-- (table, string, number, boolean, function, userdata). Failures raise a
-- table with a message and the spec file:line of the failing assertion.

local pretty = require "luahost.pretty"

local lua_assert = assert
local luassert = {}

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f) return f.message end

local function where()
  -- the spec line that asserted: the nearest *_spec.lua frame, else the
  -- first frame outside the runner
  local fallback
  for level = 2, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    local src = info.short_src or info.source or ""
    local line = info.currentline or 0
    if line > 0 then
      if src:find("_spec%.lua$") then
        return src .. ":" .. line
      end
      if not fallback and not src:find("luassert", 1, true) and not src:find("busted", 1, true)
        and src ~= "[G]" then
        fallback = src .. ":" .. line
      end
    end
  end
  return fallback
end

local function fail(msg)
  local pos = where()
  error(setmetatable({ message = (pos and (pos .. ": ") or "") .. msg, luassert = true, position = pos }, Failure), 0)
end

local function deep_same(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_same(v, rawget(b, k), seen) then return false end
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then return false end
  end
  return true
end
luassert.deep_same = deep_same

local function fmt(v)
  return pretty(v)
end

local function is_callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and type(mt.__call) == "function"
end

-- Each assertion: fn(args) -> ok, message when positive fails, message when negated fails.
local assertions = {}

assertions.equal = function(a)
  local expected, actual = a[1], a[2]
  return expected == actual,
    "Expected objects to be equal.\nPassed in:\n" .. fmt(actual) .. "\nExpected:\n" .. fmt(expected),
    "Expected objects to not be equal.\nPassed in:\n" .. fmt(actual) .. "\nDid not expect:\n" .. fmt(expected)
end
assertions.equals = assertions.equal

assertions.same = function(a)
  local expected, actual = a[1], a[2]
  return deep_same(expected, actual),
    "Expected objects to be the same.\nPassed in:\n" .. fmt(actual) .. "\nExpected:\n" .. fmt(expected),
    "Expected objects to not be the same.\nPassed in:\n" .. fmt(actual) .. "\nDid not expect:\n" .. fmt(expected)
end

assertions.truthy = function(a)
  return a[1] ~= nil and a[1] ~= false,
    "Expected to be truthy, but value was:\n" .. fmt(a[1]),
    "Expected to not be truthy, but value was:\n" .. fmt(a[1])
end
assertions.falsy = function(a)
  return a[1] == nil or a[1] == false,
    "Expected to be falsy, but value was:\n" .. fmt(a[1]),
    "Expected to not be falsy, but value was:\n" .. fmt(a[1])
end
assertions["true"] = function(a)
  return a[1] == true, "Expected objects to be the same.\nPassed in:\n" .. fmt(a[1]) .. "\nExpected:\ntrue",
    "Expected objects to not be the same.\nPassed in:\n" .. fmt(a[1]) .. "\nDid not expect:\ntrue"
end
assertions["false"] = function(a)
  return a[1] == false, "Expected objects to be the same.\nPassed in:\n" .. fmt(a[1]) .. "\nExpected:\nfalse",
    "Expected objects to not be the same.\nPassed in:\n" .. fmt(a[1]) .. "\nDid not expect:\nfalse"
end
assertions["nil"] = function(a)
  return a[1] == nil, "Expected objects to be the same.\nPassed in:\n" .. fmt(a[1]) .. "\nExpected:\nnil",
    "Expected objects to not be the same.\nPassed in:\n" .. fmt(a[1]) .. "\nDid not expect:\nnil"
end

for _, t in ipairs({ "table", "string", "number", "boolean", "function", "userdata", "thread" }) do
  assertions[t] = function(a)
    return type(a[1]) == t,
      "Expected " .. fmt(a[1]) .. " to be a " .. t,
      "Expected " .. fmt(a[1]) .. " to not be a " .. t
  end
end

local function err_text(e)
  if type(e) == "table" and getmetatable(e) == Failure then return e.message end
  return e
end

-- error(fn, expected?): fn must raise; with expected, the error must equal it
-- (strings are compared without the "file:line: " prefix, as luassert does).
assertions.error = function(a)
  local fn, expected = a[1], a[2]
  if not is_callable(fn) then
    return false, "Expected a function, got: " .. fmt(fn), "Expected a function, got: " .. fmt(fn)
  end
  local ok, err = pcall(fn)
  if ok then
    return false, "Expected an error to be thrown, but none was", "Expected no error, but one was thrown"
  end
  if a.n < 2 then
    return true, "", "Expected no error, but got:\n" .. fmt(err_text(err))
  end
  local got = err_text(err)
  local matches
  if type(got) == "string" and type(expected) == "string" then
    matches = got == expected or got:gsub("^.-:%d+: ", "", 1) == expected
  else
    matches = deep_same(expected, got)
  end
  return matches,
    "Error thrown was not the one expected.\nCaught:\n" .. fmt(got) .. "\nExpected:\n" .. fmt(expected),
    "Error thrown was the one not expected.\nCaught:\n" .. fmt(got)
end
assertions.errors = assertions.error

assertions.error_matches = function(a)
  local fn, pattern, init, plain = a[1], a[2], a[3], a[4]
  local ok, err = pcall(fn)
  if ok then
    return false, "Expected an error to be thrown, but none was", ""
  end
  local got = err_text(err)
  local m = type(got) == "string" and got:find(pattern, init, plain) ~= nil
  return m,
    "Error thrown did not match.\nCaught:\n" .. fmt(got) .. "\nExpected to match:\n" .. fmt(pattern),
    "Error thrown matched.\nCaught:\n" .. fmt(got) .. "\nDid not expect to match:\n" .. fmt(pattern)
end
assertions.errors_matches = assertions.error_matches
assertions.error_match = assertions.error_matches

assertions.matches = function(a)
  local pattern, actual, init, plain = a[1], a[2], a[3], a[4]
  local m = type(actual) == "string" and actual:find(pattern, init, plain) ~= nil
  return m,
    "Expected strings to match.\nPassed in:\n" .. fmt(actual) .. "\nExpected:\n" .. fmt(pattern),
    "Expected strings not to match.\nPassed in:\n" .. fmt(actual) .. "\nDid not expect:\n" .. fmt(pattern)
end
assertions.match = assertions.matches

assertions.near = function(a)
  local expected, actual, tol = a[1], a[2], a[3]
  local ok = type(actual) == "number" and math.abs(actual - expected) <= tol
  return ok,
    "Expected values to be near.\nPassed in:\n" .. fmt(actual) .. "\nExpected:\n" .. fmt(expected) .. " +/- " .. fmt(tol),
    "Expected values to not be near.\nPassed in:\n" .. fmt(actual)
end

assertions.unique = function(a)
  local list = a[1]
  for i = 1, #list do
    for j = i + 1, #list do
      if deep_same(list[i], list[j]) then
        return false, "Expected object to be unique:\n" .. fmt(list), "Expected object to not be unique:\n" .. fmt(list)
      end
    end
  end
  return true, "", "Expected object to not be unique:\n" .. fmt(list)
end

local modifiers = { is = true, are = true, was = true, has = true, does = true, ["not"] = "neg", no = "neg",
  to = true, be = true, been = true }

local registered = {}

local arity = { equal = 2, equals = 2, same = 2, truthy = 1, falsy = 1, ["true"] = 1, ["false"] = 1,
  ["nil"] = 1, unique = 1, near = 3, table = 1, string = 1, number = 1, boolean = 1, ["function"] = 1,
  userdata = 1, thread = 1 }

local function run(name, neg, ...)
  local fn = assertions[name] or registered[name]
  if not fn then
    error("luassert: unknown assertion '" .. tostring(name) .. "'", 3)
  end
  local args = { n = select("#", ...), ... }
  local ok, pos_msg, neg_msg = fn(args)
  if neg then ok = not ok end
  if not ok then
    local msg = neg and neg_msg or pos_msg
    local n = arity[name]
    if n and args.n > n and type(args[n + 1]) == "string" then
      msg = args[n + 1]
    end
    fail(msg)
  end
  return ...
end

local chain_mt = {}
local function chain(neg)
  return setmetatable({ neg = neg }, chain_mt)
end

-- "is_not_nil" -> modifiers {is, not} + "nil"; "has_no_errors" -> neg + "errors"
local function resolve(key, neg)
  key = key:lower()
  local words = {}
  for w in key:gmatch("[^_]+") do words[#words + 1] = w end
  local i = 1
  while i <= #words and modifiers[words[i]] and (assertions[table.concat(words, "_", i)] == nil or i < #words) do
    if modifiers[words[i]] == "neg" then neg = not neg end
    i = i + 1
  end
  if i > #words then
    return nil, neg
  end
  return table.concat(words, "_", i), neg
end

chain_mt.__index = function(self, key)
  local name, neg = resolve(key, self.neg)
  if not name then
    return chain(neg)
  end
  return function(...)
    return run(name, neg, ...)
  end
end

local assert_mt = {
  __call = function(_, ...)
    return lua_assert(...)
  end,
  __index = function(_, key)
    if key == "register" then
      return function(kind, name, fn)
        registered[name] = function(args)
          local ok = fn(nil, args)
          return ok, "assertion '" .. name .. "' failed", "negated assertion '" .. name .. "' failed"
        end
      end
    end
    return chain_mt.__index({ neg = false }, key)
  end,
}

luassert.assert = setmetatable({}, assert_mt)
luassert.Failure = Failure
luassert.is_failure = function(e) return type(e) == "table" and getmetatable(e) == Failure end

return luassert
