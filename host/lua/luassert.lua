-- luassert look-alike (stands in for lunarmodules/luassert): the global
-- `assert` of busted specs. Covers assert(v, msg); modifier chains (is,
-- are, was, has, does, to, be, been; not and no negate) in dotted or
-- underscored form; the assertions equal(s), same (with the first
-- differing key marked * in both values), truthy, falsy, True, False, nil,
-- unique, near, matches, error(s), error_matches, the type checks, and the
-- spy assertions (called, called_with, returned_with, called_at_least/
-- at_most/more_than/less_than, through assert.spy(s) or assert.stub(s));
-- assert:register for assertions, modifiers and matchers with say
-- messages (Kong's spec/internal/asserts.lua registers its own this way:
-- state is a table the modifiers write and the assertions read, and an
-- assertion may return extra values for the caller); assert:add_formatter,
-- assert:set_parameter. Failures raise a table with a message and the spec
-- file:line of the failing assertion; the host tells them from errors.

local say = require "say"

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
luassert.fail = fail

-- matchers (luassert.match) are tables with this metatable, callable on a value
luassert.matcher_mt = {
  __call = function(self, v) return self.fn(v) end,
  __tostring = function(self) return "matcher: " .. self.name end,
}
local function is_matcher(v) return getmetatable(v) == luassert.matcher_mt end
luassert.is_matcher = is_matcher

-- deep_same compares like luassert's deepcompare; on a difference it
-- returns false and the path of keys to the first one. With matchers, an
-- expected matcher judges the actual value (spy arguments).
local function deep_same(a, b, matchers, seen, path)
  path = path or {}
  if matchers and is_matcher(a) then return a(b) and true or false, path end
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false, path end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    path[#path + 1] = k
    local ok, p = deep_same(v, rawget(b, k), matchers, seen, path)
    if not ok then return false, p end
    path[#path] = nil
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then
      path[#path + 1] = k
      return false, path
    end
  end
  return true
end
luassert.deep_same = function(a, b) return (deep_same(a, b)) end

local params = { TableFormatLevel = 3, TableFormatShowRecursion = false }
local formatters = {}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y)
    local tx, ty = type(x), type(y)
    if tx ~= ty then return tx < ty end
    if tx == "number" or tx == "string" then return x < y end
    return tostring(x) < tostring(y)
  end)
  return keys
end

-- format writes a value as luassert does, "(type) value", tables nested to
-- TableFormatLevel; keys along mark (a path) are prefixed with *.
local function format(v, mark)
  local function write(x, indent, depth, seen, marked)
    local tx = type(x)
    if tx == "string" then return "'" .. x .. "'" end
    if tx ~= "table" then return tostring(x) end
    if is_matcher(x) then return tostring(x) end
    if seen[x] then return "{ <recursion> }" end
    local keys = sorted_keys(x)
    if #keys == 0 then return "{ }" end
    if depth > params.TableFormatLevel then return "{ ... more }" end
    seen[x] = true
    local parts = {}
    for _, k in ipairs(keys) do
      local on = marked and mark[depth] ~= nil and mark[depth] == k
      local ks = type(k) == "string" and k or ("[" .. tostring(k) .. "]")
      if type(k) == "string" then ks = "[" .. k .. "]" end
      parts[#parts + 1] = indent .. (on and "*" or " ") .. ks .. " = " ..
        write(x[k], indent .. "  ", depth + 1, seen, on)
    end
    seen[x] = nil
    return "{\n" .. table.concat(parts, "\n") .. " }"
  end
  return "(" .. type(v) .. ") " .. write(v, " ", 1, {}, mark ~= nil)
end
luassert.format = format

local function fmt(v)
  for i = #formatters, 1, -1 do
    local s = formatters[i](v)
    if s ~= nil then return tostring(s) end
  end
  return format(v)
end

-- say's messages of the built-in assertions ("%s" are the formatted arguments)
for key, text in pairs({
  ["assertion.same.positive"] = "Expected objects to be the same.\nPassed in:\n%s\nExpected:\n%s",
  ["assertion.same.negative"] = "Expected objects to not be the same.\nPassed in:\n%s\nDid not expect:\n%s",
  ["assertion.equals.positive"] = "Expected objects to be equal.\nPassed in:\n%s\nExpected:\n%s",
  ["assertion.equals.negative"] = "Expected objects to not be equal.\nPassed in:\n%s\nDid not expect:\n%s",
  ["assertion.near.positive"] = "Expected values to be near.\nPassed in:\n%s\nExpected:\n%s +/- %s",
  ["assertion.near.negative"] = "Expected values to not be near.\nPassed in:\n%s\nDid not expect:\n%s +/- %s",
  ["assertion.matches.positive"] = "Expected strings to match.\nPassed in:\n%s\nExpected:\n%s",
  ["assertion.matches.negative"] = "Expected strings not to match.\nPassed in:\n%s\nDid not expect:\n%s",
  ["assertion.unique.positive"] = "Expected object to be unique:\n%s",
  ["assertion.unique.negative"] = "Expected object to not be unique:\n%s",
  ["assertion.error.positive"] = "Expected a different error.\nCaught:\n%s\nExpected:\n%s",
  ["assertion.error.negative"] = "Expected no error, but caught:\n%s",
  ["assertion.truthy.positive"] = "Expected to be truthy, but value was:\n%s",
  ["assertion.truthy.negative"] = "Expected to not be truthy, but value was:\n%s",
  ["assertion.falsy.positive"] = "Expected to be falsy, but value was:\n%s",
  ["assertion.falsy.negative"] = "Expected to not be falsy, but value was:\n%s",
  ["assertion.called.positive"] = "Expected to be called %s time(s), but was called %s time(s)",
  ["assertion.called.negative"] = "Expected not to be called exactly %s time(s), but it was.",
  ["assertion.called_at_least.positive"] = "Expected to be called at least %s time(s), but was called %s time(s)",
  ["assertion.called_at_most.positive"] = "Expected to be called at most %s time(s), but was called %s time(s)",
  ["assertion.called_more_than.positive"] = "Expected to be called more than %s time(s), but was called %s time(s)",
  ["assertion.called_less_than.positive"] = "Expected to be called less than %s time(s), but was called %s time(s)",
  ["assertion.called_with.positive"] = "Function was never called with matching arguments.\nCalled with (last call if any):\n%s\nExpected:\n%s",
  ["assertion.called_with.negative"] = "Function was called with matching arguments at least once.\nCalled with (last matching call):\n%s\nDid not expect:\n%s",
  ["assertion.returned_with.positive"] = "Function never returned matching arguments.\nReturned (last call if any):\n%s\nExpected:\n%s",
  ["assertion.returned_with.negative"] = "Function returned matching arguments at least once.\nReturned (last matching call):\n%s\nDid not expect:\n%s",
  ["assertion.type.positive"] = "Expected %s to be a %s",
  ["assertion.type.negative"] = "Expected %s to not be a %s",
  ["assertion.internal.argtolittle"] = "the '%s' function requires a minimum of %s arguments, got: %s",
}) do say:set(key, text) end
for _, v in ipairs({ "true", "false", "nil" }) do
  say:set("assertion." .. v .. ".positive", "Expected objects to be the same.\nPassed in:\n%s\nExpected:\n" .. v)
  say:set("assertion." .. v .. ".negative", "Expected objects to not be the same.\nPassed in:\n%s\nDid not expect:\n" .. v)
end

-- registries: name -> { fn = fn(state, args, level), pos = say key, neg = say key }
local assertions, modifiers, matchers = {}, {}, {}
luassert.assertions, luassert.matchers = assertions, matchers

local function register(kind, name, fn, pos, neg)
  if kind == "assertion" then
    assertions[name:lower()] = { fn = fn, pos = pos, neg = neg }
  elseif kind == "modifier" then
    modifiers[name:lower()] = fn
  elseif kind == "matcher" then
    matchers[name:lower()] = fn
  else
    error("luassert: register: unknown kind '" .. tostring(kind) .. "'", 3)
  end
end

-- builtin registers an assertion; argc is how many arguments it takes,
-- the next one (a string) being the caller's failure message.
local function builtin(names, argc, fn, key)
  for _, name in ipairs(names) do
    assertions[name] = { fn = fn, pos = "assertion." .. key .. ".positive", neg = "assertion." .. key .. ".negative",
      argc = argc, builtin = true }
  end
end

local function swap(args)
  -- luassert shows the actual value first: "Passed in", then "Expected"
  args[1], args[2] = args[2], args[1]
end

local function argc_check(name, args, n)
  if args.n < n then
    error(say("assertion.internal.argtolittle", { name, n, args.n, n = 3 }), 4)
  end
end

builtin({ "equal", "equals" }, 2, function(_, args)
  argc_check("equals", args, 2)
  local ok = args[1] == args[2]
  swap(args)
  return ok
end, "equals")

builtin({ "same" }, 2, function(_, args)
  argc_check("same", args, 2)
  local ok, path = deep_same(args[1], args[2])
  swap(args)
  if not ok and type(args[1]) == "table" and type(args[2]) == "table" then
    local p = {}
    for i, k in ipairs(path) do p[i] = k end
    args[1], args[2] = format(args[1], p), format(args[2], p)
    args.nofmt = { true, true }
  end
  return ok
end, "same")

builtin({ "truthy" }, 1, function(_, args) return args[1] ~= nil and args[1] ~= false end, "truthy")
builtin({ "falsy" }, 1, function(_, args) return args[1] == nil or args[1] == false end, "falsy")
builtin({ "true" }, 1, function(_, args) return args[1] == true end, "true")
builtin({ "false" }, 1, function(_, args) return args[1] == false end, "false")
builtin({ "nil" }, 1, function(_, args) return args[1] == nil end, "nil")

for _, t in ipairs({ "table", "string", "number", "boolean", "function", "userdata", "thread" }) do
  builtin({ t }, 1, function(_, args)
    local ok = type(args[1]) == t
    args[2], args.n = t, 2
    args.nofmt = { false, true }
    return ok
  end, "type")
end

builtin({ "near" }, 3, function(_, args)
  argc_check("near", args, 3)
  -- numbers or what converts to one, as luassert's (anything else raises)
  local expected, actual, tol = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
  for i, v in ipairs({ expected, actual, tol }) do
    if v == nil then
      error("bad argument #" .. i .. " to 'near' (number or object convertible to a number expected, got "
        .. type(args[i]) .. ")", 4)
    end
  end
  local ok = actual >= expected - tol and actual <= expected + tol
  swap(args)
  return ok
end, "near")

builtin({ "unique" }, 1, function(_, args)
  local list = args[1]
  for i = 1, #list do
    for j = i + 1, #list do
      if (deep_same(list[i], list[j])) then return false end
    end
  end
  return true
end, "unique")

builtin({ "matches", "match" }, 2, function(_, args)
  argc_check("matches", args, 2)
  local pattern, actual, init, plain = args[1], args[2], args[3], args[4]
  -- a number (or a value with __tostring) is matched as its text, as luassert's
  local mt = getmetatable(actual)
  if type(actual) == "number" or (type(mt) == "table" and mt.__tostring) then
    actual = tostring(actual)
  end
  local ok = type(actual) == "string" and actual:find(pattern, init, plain) ~= nil
  swap(args)
  args.n = 2
  return ok
end, "matches")

local function is_callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and mt.__call ~= nil
end

local function err_value(e)
  if type(e) == "table" and getmetatable(e) == Failure then return e.message end
  return e
end

-- error(fn, expected?): fn must raise; with expected, the error must equal
-- it (a string is compared without its "file:line: " prefix, as luassert).
builtin({ "error", "errors" }, 2, function(state, args)
  local fn, expected = args[1], args[2]
  if not is_callable(fn) then
    rawset(state, "failure_message", "Expected a function, got: " .. fmt(fn))
    return false
  end
  local ok, err = pcall(fn)
  local got = err_value(err)
  if ok then
    rawset(state, "failure_message", "Expected an error to be thrown, but none was")
    return false
  end
  args[1], args.n = got, args.n < 2 and 1 or 2
  if args.n < 2 then return true end
  if type(got) == "string" and type(expected) == "string" then
    return got == expected or got:gsub("^.-:%d+: ", "", 1) == expected
  end
  return (deep_same(expected, got))
end, "error")

builtin({ "error_matches", "errors_matches", "error_match", "matches_error" }, 2, function(state, args)
  local fn, pattern, init, plain = args[1], args[2], args[3], args[4]
  local ok, err = pcall(fn)
  local got = err_value(err)
  args[1], args[2], args.n = got, pattern, 2
  if ok then
    rawset(state, "failure_message", "Expected an error to be thrown, but none was")
    return false
  end
  return type(got) == "string" and got:find(pattern, init, plain) ~= nil
end, "matches")

-- spy assertions: the spy comes from assert.spy(s)/assert.stub(s) (the
-- state's payload) or as the first argument.
local function spy_of(state, args)
  local s = rawget(state, "payload")
  if s == nil then
    s = args[1]
    table.remove(args, 1)
    args.n = math.max(args.n - 1, 0)
  end
  if type(s) ~= "table" or type(s.calls) ~= "table" then
    error("luassert: expected a spy or stub, got " .. fmt(s), 4)
  end
  return s
end

local function count_assertion(name, cmp)
  builtin({ name }, 1, function(state, args)
    local s = spy_of(state, args)
    local want = args[1]
    local n = #s.calls
    args[1], args[2], args.n = want == nil and "any" or want, n, 2
    args.nofmt = { true, true }
    return cmp(n, want)
  end, name)
end
count_assertion("called", function(n, want) if want == nil then return n > 0 end return n == want end)
count_assertion("called_at_least", function(n, want) return n >= want end)
count_assertion("called_at_most", function(n, want) return n <= want end)
count_assertion("called_more_than", function(n, want) return n > want end)
count_assertion("called_less_than", function(n, want) return n < want end)

local function args_match(expected, got)
  local n = math.max(expected.n or #expected, got.n or #got)
  for i = 1, n do
    if not deep_same(expected[i], got[i], true) then return false end
  end
  return true
end
luassert.args_match = args_match

local function pack(...) return { n = select("#", ...), ... } end

local function list_text(t)
  local parts = {}
  for i = 1, (t and t.n or 0) do parts[i] = fmt(t[i]) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

local function with_assertion(name, field)
  builtin({ name }, math.huge, function(state, args)
    local s = spy_of(state, args)
    local expected = pack(unpack(args, 1, args.n))
    local last, found
    for _, call in ipairs(s.calls) do
      last = call[field]
      if args_match(expected, call[field]) then
        found = call[field]
        break
      end
    end
    args[1], args[2], args.n = list_text(found or last), list_text(expected), 2
    args.nofmt = { true, true }
    return found ~= nil
  end, name)
end
with_assertion("called_with", "vals")
with_assertion("returned_with", "returnvals")

-- built-in modifiers with arguments
modifiers.spy = function(state, args) rawset(state, "payload", args[1]) return state end
modifiers.stub = modifiers.spy
modifiers.message = function(state, args) rawset(state, "failure_message", args[1]) return state end

local words = { is = true, are = true, was = true, has = true, does = true, to = true, be = true, been = true,
  ["not"] = "neg", no = "neg" }

local chain_mt = {}

-- run calls assertion a under state with the caller's arguments.
local function run(a, state, ...)
  local args = pack(...)
  local custom
  if a.argc and a.argc ~= math.huge and args.n > a.argc and type(args[a.argc + 1]) == "string" then
    custom = args[a.argc + 1]
  end
  local ok, retargs = a.fn(state, args, 2)
  local positive = rawget(state, "mod")
  if (ok and true or false) ~= positive then
    local msg = rawget(state, "failure_message") or custom
    if msg == nil then
      local key = positive and a.pos or a.neg
      local fargs = { n = args.n }
      for i = 1, args.n do
        fargs[i] = (args.nofmt and args.nofmt[i]) and tostring(args[i]) or fmt(args[i])
      end
      msg = (key and say(key, fargs)) or ("assertion failed: " .. tostring(key))
    end
    fail(msg)
  end
  if type(retargs) == "table" then
    return unpack(retargs, 1, retargs.n or #retargs)
  end
  return ...
end

-- resolve looks a key up: modifiers words, then an assertion or a
-- registered modifier named by the rest ("is_not_nil", "has_no_errors",
-- "was_called_with").
local function resolve(state, key)
  local w = {}
  for part in key:lower():gmatch("[^_]+") do w[#w + 1] = part end
  local i = 1
  local seen = rawget(state, "words") or {}
  rawset(state, "words", seen)
  while i <= #w do
    local rest = table.concat(w, "_", i)
    if not assertions[rest] and not modifiers[rest] then
      -- a registered name that starts with a modifier word: has_property
      -- is found as has.property and has_no.property too
      for _, word in ipairs(seen) do
        if assertions[word .. "_" .. rest] then
          rest = word .. "_" .. rest
          break
        end
      end
    end
    if assertions[rest] then
      local a = assertions[rest]
      return function(...) return run(a, state, ...) end
    elseif modifiers[rest] then
      local m = modifiers[rest]
      return function(...)
        local s = m(state, pack(...), 2)
        return (type(s) == "table" and getmetatable(s) == chain_mt) and s or state
      end
    elseif words[w[i]] then
      if words[w[i]] == "neg" then rawset(state, "mod", not rawget(state, "mod")) end
      seen[#seen + 1] = w[i]
      i = i + 1
    else
      error("luassert: unknown assertion or modifier '" .. key .. "'", 3)
    end
  end
  return state
end

-- state fields a spec may read plainly (luassert's state has them)
local state_fields = { payload = true, failure_message = true, mod = true, words = true }

chain_mt.__index = function(state, key)
  if state_fields[key] then return nil end
  return resolve(state, key)
end

local function new_state()
  return setmetatable({ mod = true }, chain_mt)
end

local api = {}

-- assert:register("assertion"|"modifier"|"matcher", name, fn, positive, negative)
function api.register(self, ...)
  if self ~= luassert.assert then return register(self, ...) end
  return register(...)
end

function api.add_formatter(self, fn)
  if self ~= luassert.assert then fn = self end
  formatters[#formatters + 1] = fn
end

function api.remove_formatter(self, fn)
  if self ~= luassert.assert then fn = self end
  for i = #formatters, 1, -1 do
    if formatters[i] == fn then table.remove(formatters, i) end
  end
end

function api.set_parameter(self, name, value)
  if self ~= luassert.assert then
    -- called with a dot; two statements (gopher-lua's `a, b = x, a` assigns left to right)
    value = name
    name = self
  end
  params[name] = value
end

function api.get_parameter(self, name)
  if self ~= luassert.assert then name = self end
  return params[name]
end

function api.format(self, args)
  if self ~= luassert.assert then args = self end
  local out = { n = args.n or #args }
  for i = 1, out.n do out[i] = (args.nofmt and args.nofmt[i]) and tostring(args[i]) or fmt(args[i]) end
  return out
end

luassert.assert = setmetatable({}, {
  __call = function(_, ...)
    return lua_assert(...)
  end,
  __index = function(_, key)
    if api[key] then return api[key] end
    return resolve(new_state(), key)
  end,
})
luassert.Failure = Failure
luassert.is_failure = function(e) return type(e) == "table" and getmetatable(e) == Failure end
luassert.register = register
luassert.pack = pack

return luassert
