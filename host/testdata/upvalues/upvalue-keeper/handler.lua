-- Runs the snippet of gopher-lua#448 in every kind of call the host makes
-- into a plugin: a phase, a kong.cache callback, a worker-events handler,
-- a timer. Each writes what it saw into the global UPVALUE_RESULTS, which
-- host/upvalues_test.go reads: "failure" is Lua 5.1's answer.
local Keeper = {
  PRIORITY = 5,
  VERSION = "0.1.0",
}

local function snippet()
  local status = "success"
  local function set() status = "failure" end
  pcall(error, "x")
  set()
  return status
end

UPVALUE_RESULTS = {}

function Keeper:init_worker()
  UPVALUE_RESULTS.init_worker = snippet()
  kong.worker_events.register(function()
    UPVALUE_RESULTS.event = snippet()
  end, "upvalue-keeper", "ping")
end

function Keeper:access(conf)
  -- a local of the phase's own live frame, written through a closure
  -- after errors caught in Go (the cache callback) and in Lua
  local seen = "before"
  local function saw(x) seen = x end
  kong.cache:get("upvalue-keeper", nil, function()
    UPVALUE_RESULTS.callback = snippet()
    error("the callback fails")
  end)
  pcall(error, "y")
  saw("after")
  UPVALUE_RESULTS.access_local = seen
  UPVALUE_RESULTS.access = snippet()
  assert(ngx.timer.at(0, function() UPVALUE_RESULTS.timer = snippet() end))
  assert(kong.worker_events.post("upvalue-keeper", "ping", {}))
end

return Keeper
