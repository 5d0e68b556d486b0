-- busted look-alike (stands in for lunarmodules/busted): the describe/it
-- DSL of plugin specs and its runner. Covers describe/context/insulate/
-- expose, it/spec/test, pending, before_each/after_each, setup/teardown
-- (and lazy_setup/lazy_teardown, strict_setup/strict_teardown), finally,
-- and the global assert (luassert). Each spec file runs in a worker of its
-- own, so globals do not leak between files.

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

local function full_name(node)
  local parts = {}
  local n = node
  while n and n.kind ~= "file" do
    table.insert(parts, 1, n.name)
    n = n.parent
  end
  return table.concat(parts, " ")
end

local function describe_error(err)
  if luassert.is_failure(err) then
    return "failure", err.message
  end
  return "error", tostring(err)
end

-- run executes the tree; report(status, name, line, message, trace) is
-- called once per test ("success", "failure", "error", "pending").
function busted.run(report)
  local traceback = debug.traceback

  local function call(fn)
    local trace
    local ok, err = xpcall(fn, function(e)
      trace = traceback("", 2)
      return e
    end)
    return ok, err, trace
  end

  local function run_block(block, befores, afters)
    if block.load_error then
      local status, msg = describe_error(block.load_error)
      report("error", full_name(block), block.line, msg, "")
      return
    end
    for _, fn in ipairs(block.setup) do
      local ok, err, trace = call(fn)
      if not ok then
        local _, msg = describe_error(err)
        report("error", full_name(block) .. " setup", block.line, msg, trace)
        return
      end
    end
    local my_befores, my_afters = {}, {}
    for _, f in ipairs(befores) do my_befores[#my_befores + 1] = f end
    for _, f in ipairs(block.before_each) do my_befores[#my_befores + 1] = f end
    for _, f in ipairs(block.after_each) do my_afters[#my_afters + 1] = f end
    for _, f in ipairs(afters) do my_afters[#my_afters + 1] = f end

    for _, child in ipairs(block.children) do
      if child.kind == "describe" then
        run_block(child, my_befores, my_afters)
      elseif child.kind == "pending" then
        report("pending", full_name(child), child.line, "", "")
      else
        current_test = child
        local status, msg, trace = "success", "", ""
        -- the first failure of a test wins; a failing hook is an error;
        -- after_each and finally run whatever happened before them
        local function step(f, as_error)
          local ok, err, tr = call(f)
          if not ok and status == "success" then
            status, msg = describe_error(err)
            if as_error then status = "error" end
            trace = tr
          end
        end
        for _, f in ipairs(my_befores) do
          if status ~= "success" then break end
          step(f, true)
        end
        if status == "success" then step(child.fn, false) end
        for _, f in ipairs(my_afters) do step(f, true) end
        for _, f in ipairs(child.finally or {}) do step(f, true) end
        current_test = nil
        report(status, full_name(child), child.line, msg, trace or "")
      end
    end
    for _, fn in ipairs(block.teardown) do
      local ok, err, trace = call(fn)
      if not ok then
        local _, msg = describe_error(err)
        report("error", full_name(block) .. " teardown", block.line, msg, trace)
      end
    end
  end

  run_block(root, {}, {})
end

return busted
