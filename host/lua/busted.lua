-- busted look-alike (stands in for lunarmodules/busted): the describe/it
-- DSL of plugin specs and its runner. Covers describe/context/insulate/
-- expose, it/spec/test, pending, before_each/after_each, setup/teardown
-- (and lazy_setup/lazy_teardown, strict_setup/strict_teardown), finally,
-- and the global assert (luassert). Each spec file runs in a worker of its
-- own, so globals do not leak between files (busted insulates files by
-- default; an expose block cannot reach the next file here). Inside a file,
-- insulate restores _G and package.loaded when its block ends, as busted
-- does; describe, context and expose do not. The host runs the tree, and
-- a describe's body when it reaches the block (busted.expand).

local luassert = require "luassert"

local busted = {}

local function new_block(kind, name, parent, line)
  return { kind = kind, name = name, parent = parent, line = line, children = {}, before_each = {},
    after_each = {}, setup = {}, teardown = {} }
end

local root = new_block("file", "", nil, 0)
local current = root
local current_test = nil

local function caller_line()
  local info = debug.getinfo(3, "l")
  return info and info.currentline or 0
end

-- snapshot copies _G and package.loaded (one level: the tables, not
-- their contents, as busted's insulate).
local function snapshot()
  local g, loaded = {}, {}
  for k, v in pairs(_G) do g[k] = v end
  for k, v in pairs(package.loaded) do loaded[k] = v end
  return { g = g, loaded = loaded }
end

local function restore_into(t, saved)
  local drop = {}
  for k in pairs(t) do
    if saved[k] == nil then drop[#drop + 1] = k end
  end
  for _, k in ipairs(drop) do rawset(t, k, nil) end
  for k, v in pairs(saved) do
    if rawget(t, k) ~= v then rawset(t, k, v) end
  end
end

local function restore(snap)
  restore_into(_G, snap.g)
  restore_into(package.loaded, snap.loaded)
end

-- diff lists what a block's body changed in t since saved (false stands
-- for a key set to nil).
local function diff(t, saved)
  local d = {}
  for k, v in pairs(t) do
    if saved[k] ~= v then d[k] = v end
  end
  for k in pairs(saved) do
    if rawget(t, k) == nil then d[k] = false end
  end
  return d
end

local function apply(t, d)
  for k, v in pairs(d) do
    if v == false then rawset(t, k, nil) else rawset(t, k, v) end
  end
end

-- where a describe body failed: its error's own position, else the
-- describe's line
local function body_error(err, line, src)
  if type(err) == "string" then
    if err:match("^[^\n]-:%d+: ") then return err end
  elseif type(err) == "table" and err.luassert then
    return err
  end
  return (src or "?") .. ":" .. line .. ": error in describe body: " .. tostring(err)
end

-- describe registers its block; its body runs when the runner reaches the
-- block (busted.expand), as busted runs a describe's body when it executes
-- the block: after the blocks and tests before it, so that the body sees
-- what their hooks did (a started node, inserted entities).
local function block_fn(kind)
  return function(name, fn)
    local block = new_block("describe", tostring(name), current, caller_line())
    block.insulate = kind == "insulate"
    block.body = fn
    local info = debug.getinfo(2, "S")
    block.src = info and (info.short_src or info.source)
    table.insert(current.children, block)
  end
end

-- expand runs block's body once, registering its hooks, tests and inner
-- blocks; an error in it is the block's load_error.
local function expand(block)
  local fn = block.body
  if fn == nil then return end
  block.body = nil
  local parent = current
  current = block
  local snap = block.insulate and snapshot() or nil
  local ok, err = pcall(fn)
  if snap then
    -- the body's changes are kept for the block's hooks and tests (the
    -- host applies them in enter) and undone for the rest of the file
    block.globals_diff = diff(_G, snap.g)
    block.loaded_diff = diff(package.loaded, snap.loaded)
    restore(snap)
  end
  current = parent
  if not ok then
    block.load_error = body_error(err, block.line, block.src)
  end
end

local describe = block_fn("describe")

local function it(name, fn)
  table.insert(current.children, { kind = fn and "it" or "pending", name = tostring(name), fn = fn, parent = current,
    line = caller_line() })
end

local function pending(name)
  if current_test then
    -- inside a running test, as busted: the test stops and is pending
    error({ busted_pending = true, message = tostring(name) }, 0)
  end
  table.insert(current.children, { kind = "pending", name = tostring(name), parent = current, line = caller_line() })
end

local function hook(list)
  return function(fn) table.insert(current[list], fn) end
end

local function finally(fn)
  if current_test then
    current_test.finally = current_test.finally or {}
    table.insert(current_test.finally, fn)
  end
end

function busted.install(env)
  env.describe, env.context, env.expose = describe, describe, describe
  env.insulate = block_fn("insulate")
  env.it, env.spec, env.test = it, it, it
  env.pending = pending
  env.before_each, env.after_each = hook("before_each"), hook("after_each")
  env.setup, env.lazy_setup, env.strict_setup = hook("setup"), hook("setup"), hook("setup")
  env.teardown, env.lazy_teardown, env.strict_teardown = hook("teardown"), hook("teardown"), hook("teardown")
  env.finally = finally
  -- randomize() in a describe body: its children run in a random order
  env.randomize = function() current.randomize = true end
  env.assert = luassert.assert
  env.spy = require "luassert.spy"
  env.stub = require "luassert.stub"
  env.mock = require "luassert.mock"
  env.match = require "luassert.match"
end

-- The tree is run by the host (host/spec.go), not here: every hook and
-- test is called from Go, and its outcome recorded on the Go side, where
-- no Lua code of the spec can detach or overwrite it. root() hands the
-- tree over; set_current() tells finally() which test is running.

function busted.root() return root end

function busted.set_current(test) current_test = test end

-- expand(block): the host runs a describe block's body when it reaches
-- the block.
busted.expand = expand

-- enter and leave bracket the run of an insulate block: leave puts _G and
-- package.loaded back as enter found them.
function busted.enter(block)
  if not block.insulate then return end
  block.snapshot = snapshot()
  apply(_G, block.globals_diff or {})
  apply(package.loaded, block.loaded_diff or {})
end

function busted.leave(block)
  if block.snapshot then
    restore(block.snapshot)
    block.snapshot = nil
  end
end

return busted
