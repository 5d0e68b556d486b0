-- busted look-alike (stands in for lunarmodules/busted): the describe/it
-- DSL of plugin specs and its runner. Covers describe/context/insulate/
-- expose, it/spec/test, pending, before_each/after_each, setup/teardown
-- (and lazy_setup/lazy_teardown, strict_setup/strict_teardown), finally,
-- and the global assert (luassert). Each spec file runs in a worker of its
-- own, so globals do not leak between files. The host runs the tree.

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

local function describe(name, fn)
  local block = new_block("describe", tostring(name), current, caller_line())
  table.insert(current.children, block)
  local parent = current
  current = block
  local ok, err = pcall(fn)
  current = parent
  if not ok then
    block.load_error = err
  end
end

local function it(name, fn)
  table.insert(current.children, { kind = fn and "it" or "pending", name = tostring(name), fn = fn, parent = current,
    line = caller_line() })
end

local function pending(name)
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
  env.describe, env.context, env.insulate, env.expose = describe, describe, describe, describe
  env.it, env.spec, env.test = it, it, it
  env.pending = pending
  env.before_each, env.after_each = hook("before_each"), hook("after_each")
  env.setup, env.lazy_setup, env.strict_setup = hook("setup"), hook("setup"), hook("setup")
  env.teardown, env.lazy_teardown, env.strict_teardown = hook("teardown"), hook("teardown"), hook("teardown")
  env.finally = finally
  env.assert = luassert.assert
end

-- The tree is run by the host (host/spec.go), not here: every hook and
-- test is called from Go, and its outcome recorded on the Go side, where
-- no Lua code of the spec can detach or overwrite it. root() hands the
-- tree over; set_current() tells finally() which test is running.

function busted.root() return root end

function busted.set_current(test) current_test = test end

return busted
