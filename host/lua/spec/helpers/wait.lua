-- spec.helpers.wait (stands in for Kong's spec/helpers/wait.lua, which
-- spec.helpers loads): registers on luassert the eventual assertions
--
--   assert.with_timeout(t).with_step(s).with_max_tries(n)
--     .ignore_exceptions(b).with_debug(b)
--     .eventually(fn).is_truthy(msg) / is_falsy / has_error / has_no_error
--   assert.wait_until({ fn = fn, timeout = t, step = s, max_tries = n,
--     condition = "truthy"|"falsy"|"error"|"no_error", message = msg,
--     ignore_exceptions = b, debug = b }, msg)
--
-- fn is called until the condition holds (its first result truthy or
-- falsy, it raises, it does not raise), every step seconds (0.05), for
-- timeout seconds (5) or max_tries calls (0: no bound); an error ends the
-- wait unless exceptions are ignored (always for has_no_error). The
-- failure names the message, why the wait ended (timed out, max tries,
-- error() raised), the last value returned, error raised (with its
-- traceback) and error returned, and the figures of the wait. Passing
-- returns fn's last non-nil first result.
local luassert = require "luassert.assert"
local say = require "say"

local DEFAULTS = {
  timeout = 5,
  step = 0.05,
  message = "UNSPECIFIED",
  max_tries = 0,
  ignore_exceptions = false,
  condition = "truthy",
  debug = false,
}

local TYPES = {
  fn = "function",
  timeout = "number",
  step = "number",
  message = "string",
  max_tries = "number",
  ignore_exceptions = "boolean",
  condition = "string",
}

-- whether a call's outcome (pcall's ok and first result) meets a condition
local MET = {
  truthy = function(ok, v) return ok and v and true or false end,
  falsy = function(ok, v) return ok and not v or false end,
  error = function(ok) return not ok end,
  no_error = function(ok) return ok and true or false end,
}

local function callable(v)
  if type(v) == "function" then return true end
  local mt = type(v) == "table" and debug.getmetatable(v)
  return type(mt) == "table" and type(mt.__call) == "function"
end

-- check raises for a wrong type of a setting, naming the caller
local function check(key, value, caller, level)
  local want = TYPES[key]
  if want == nil then return value end
  local got = type(value)
  if want == "function" and callable(value) then got = "function" end
  if got ~= want then
    error(("bad argument '%s' to '%s' (%s expected, got %s)"):format(key, caller, want, got), level + 1)
  end
  if key == "condition" and not MET[value] then
    error(("bad argument 'condition' to '%s' (one of: 'truthy', 'falsy', 'error', 'no_error' expected, got %s)")
      :format(caller, value), level + 1)
  end
  return value
end

-- the settings the modifiers of one assertion chain gathered
local function settings_of(state)
  local s = rawget(state, "wait_settings")
  if not s then
    s = {}
    rawset(state, "wait_settings", s)
  end
  return s
end

local function first(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then return v end
  end
end

local function show(v)
  local ok, pretty = pcall(require, "pl.pretty")
  if ok and type(pretty) == "table" and pretty.write then
    local s = pretty.write(v)
    if s then return s end
  end
  return tostring(v)
end

-- run calls w.fn until its condition is met or the wait ends; it fills
-- w with what it saw.
local function run(w)
  ngx.update_time()
  local start = ngx.now()
  local deadline = start + w.timeout
  local met = MET[w.condition]
  if w.condition == "no_error" then w.ignore_exceptions = true end
  local left = w.max_tries
  w.tries, w.raised = 0, false
  local function trace(e)
    w.traceback = debug.traceback("", 2)
    return e
  end
  while true do
    local ok, v, err = xpcall(w.fn, trace)
    if ok then
      w.last_value = first(v, w.last_value)
      w.last_returned_error = first(err, w.last_returned_error)
      w.last_error = first(err, w.last_error)
    else
      w.raised = true
      w.last_raised = first(v, w.last_raised)
      w.last_error = first(v, w.last_error)
    end
    w.tries = w.tries + 1
    left = left - 1
    if w.debug then print("\n\n" .. show(w) .. "\n\n") end
    ngx.update_time()
    if met(ok, v) then
      w.result = "success"
      break
    elseif not ok and not w.ignore_exceptions then
      w.result = "error() raised"
      break
    elseif left == 0 then
      w.result = ("max tries (%s) reached"):format(w.max_tries)
      break
    elseif ngx.now() >= deadline then
      w.result = "timeout"
      break
    end
    ngx.sleep(w.step)
  end
  ngx.update_time()
  w.elapsed = ngx.now() - start
  if w.result == "timeout" then
    w.result = ("timed out after %ss"):format(w.elapsed)
  end
end

local function wait_until(state, args)
  if args.n < 1 then
    error("the 'wait_until' function requires a minimum of 1 arguments, got: " .. args.n, 3)
  end
  local input = args[1]
  if type(input) ~= "table" then
    error("bad argument 1 to 'wait_until' (table expected, got " .. type(input) .. ")", 3)
  end
  local s = settings_of(state)
  rawset(state, "wait_settings", nil)
  local w = {}
  for key, def in pairs(DEFAULTS) do
    local v = first(input[key], s[key])
    if key == "message" then v = first(input.message, args[2], s.message) end
    if v == nil then v = def end
    w[key] = check(key, v, "wait_until", 3)
  end
  w.fn = check("fn", first(input.fn, s.fn), "wait_until", 3)
  run(w)
  if w.result == "success" then
    return true, { w.last_value, n = 1 }
  end
  local lines = {}
  local function add(title, v, tb)
    if v == nil then return end
    lines[#lines + 1] = title .. ":\n\n" .. show(v) .. "\n"
    if tb then lines[#lines + 1] = tb .. "\n" end
  end
  add("Last returned value", w.last_value)
  add("Last raised error", w.last_raised, w.traceback)
  add("Last returned error", w.last_returned_error)
  local out = { w.message, w.result, table.concat(lines, "\n"), w.timeout, w.step, w.elapsed, w.tries,
    w.raised, n = 8 }
  for i = 1, out.n do args[i] = out[i] end
  args.n = out.n
  args.nofmt = {}
  for i = 1, args.n do args.nofmt[i] = true end
  return false, { w.last_error, n = 1 }
end

say:set("assertion.wait_until.failed", [[
Failed to assert eventual condition:

%q

Result: %s

%s
---

Timeout  = %s
Step     = %s
Elapsed  = %s
Tries    = %s
Raised   = %s
]])

luassert:register("assertion", "wait_until", wait_until, "assertion.wait_until.failed")

local function setter(key)
  return function(state, args)
    settings_of(state)[key] = check(key, args[1], key, 2)
    return state
  end
end

luassert:register("modifier", "with_timeout", setter("timeout"))
luassert:register("modifier", "with_step", setter("step"))
luassert:register("modifier", "with_max_tries", setter("max_tries"))
luassert:register("modifier", "ignore_exceptions", setter("ignore_exceptions"))
luassert:register("modifier", "with_debug", setter("debug"))

-- eventually(fn) answers a builder: more settings, then the condition,
-- which runs the wait as wait_until
local function builder(s)
  local b = setmetatable({}, {
    __index = function(_, key)
      error("unknown modifier/assertion: " .. tostring(key), 2)
    end,
  })
  local function set(key, caller)
    return function(v)
      s[key] = check(key, v, caller, 2)
      return b
    end
  end
  rawset(b, "with_timeout", set("timeout", "with_timeout"))
  rawset(b, "with_step", set("step", "with_step"))
  rawset(b, "with_max_tries", set("max_tries", "with_max_tries"))
  rawset(b, "with_debug", set("debug", "with_debug"))
  rawset(b, "ignore_exceptions", set("ignore_exceptions", "ignore_exceptions"))
  for name, condition in pairs({ is_truthy = "truthy", is_falsy = "falsy", has_error = "error",
      has_no_error = "no_error" }) do
    rawset(b, name, function(msg)
      s.condition = condition
      return luassert.wait_until(s, msg)
    end)
  end
  return b
end

luassert:register("assertion", "eventually", function(state, args)
  local s = settings_of(state)
  rawset(state, "wait_settings", nil)
  s.fn = first(args[1], s.fn)
  check("fn", s.fn, "eventually", 2)
  args[1], args.n = builder(s), 1
  return true, args
end)

return true
