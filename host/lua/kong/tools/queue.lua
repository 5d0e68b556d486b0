-- luahost's `kong.tools.queue` (Kong 3.3+): entries queued by a plugin are
-- handed to its handler in batches, off the request, with retries.
-- Covers: Queue.enqueue(queue_conf, handler, handler_conf, value) with
-- max_batch_size, max_coalescing_delay, max_entries, max_bytes,
-- max_retry_time, initial_retry_delay, max_retry_delay and
-- concurrency_limit (1: one batch at a time, in order; -1: every entry
-- handled at once, on its own); Queue.get_plugin_params (with the legacy
-- retry_count / queue_size / flush_timeout / batch_span_count /
-- batch_flush_delay parameters and their warnings), Queue.exists,
-- Queue.is_full, Queue.can_enqueue, Queue._exists; Kong's log messages
-- (its trace messages through kong.log.trace).
--
-- Written for luahost's workers: nothing here blocks. Kong's queue runs a
-- timer that sleeps and waits on a semaphore while a batch fills up; here
-- every wait is an ngx.timer set for the moment it ends (the end of the
-- coalescing delay, the next retry), and the worker serves requests
-- meanwhile. A batch is handed over when max_batch_size entries wait or
-- max_coalescing_delay seconds after its first entry could be taken, as in
-- Kong. Queues live in the worker that created them, as in Kong's nginx
-- workers. At worker exit (premature timers) the remaining entries are
-- handed over at once, without retries.

local timer_at = ngx.timer.at
local now = ngx.now
local update_time = ngx.update_time
local null = ngx.null
local fmt = string.format
local min = math.min
local type = type
local pairs = pairs
local pcall = pcall
local select = select
local tostring = tostring
local unpack = unpack
local setmetatable = setmetatable

local Queue = {}
local Queue_mt = { __index = Queue }

-- Kong's constants: the capacity warning threshold; below COALESCE_MIN_TIME
-- of coalescing left, a batch goes at once.
local CAPACITY_WARNING_THRESHOLD = 0.8
local COALESCE_MIN_TIME = 0.05
local MIN_WARNING_INTERVAL_SECONDS = 60

local queues = {}

local function workspace_id()
  local ctx = ngx.ctx
  local ws = ctx and ctx.workspace
  if type(ws) == "string" then
    return ws
  end
  return ""
end

local function queue_key(name)
  return workspace_id() .. "." .. name
end

function Queue:log(fn, format, ...)
  local msg = "[" .. (self.log_tag or "") .. "] queue " .. self.name .. ": " .. format
  if select("#", ...) > 0 then
    msg = fmt(msg, ...)
  end
  return fn(msg)
end

-- kong.log.trace: debug under KONG_IS_TESTING=1 (Kong's bin/busted and
-- luahost test set it), else nothing
function Queue:log_trace(...) return self:log(kong.log.trace, ...) end
function Queue:log_debug(...) return self:log(kong.log.debug, ...) end
function Queue:log_info(...) return self:log(kong.log.info, ...) end
function Queue:log_warn(...) return self:log(kong.log.warn, ...) end
function Queue:log_err(...) return self:log(kong.log.err, ...) end

function Queue:count()
  return self.back - self.front
end

-- capacity left: entries, and bytes when max_bytes is set
local function remaining(self)
  local entries = self.max_entries - self:count()
  if not self.max_bytes then
    return entries
  end
  return entries, self.max_bytes - self.bytes_queued
end

local function is_full(self)
  local entries, bytes = remaining(self)
  return entries <= 0 or (bytes ~= nil and bytes <= 0)
end

local function too_large(self, entry)
  return self.max_bytes ~= nil and type(entry) == "string" and #entry > self.max_bytes
end

local function exceeds_bytes(self, entry)
  if not self.max_bytes or type(entry) ~= "string" then
    return false
  end
  local _, bytes = remaining(self)
  return #entry > bytes
end

local function can_enqueue(self, entry)
  return not (is_full(self) or too_large(self, entry) or remaining(self) - 1 < 0 or exceeds_bytes(self, entry))
end

-- take removes the oldest entry and returns it.
local function take(self)
  local entry = self.entries[self.front]
  if self.max_bytes and type(entry) == "string" then
    self.bytes_queued = self.bytes_queued - #entry
  end
  self.entries[self.front] = nil
  self.front = self.front + 1
  if self.front == self.back then
    self.front, self.back = 1, 1
  end
  return entry
end

local schedule -- forward

-- A batch's life: the handler, then (on failure) retries at growing
-- delays until max_retry_time has passed. done() runs when the batch is
-- sent or given up.
local function deliver(self, batch, done)
  local started = now()
  local retries = 0
  local attempt
  attempt = function(premature)
    self:log_trace("passing %d entries to handler", #batch)
    local ok_call, ok, err = pcall(self.handler, self.handler_conf, batch)
    if ok_call and ok == true then
      self:log_trace("handler processed %d entries successfully", #batch)
      return done()
    end
    if not ok_call then
      err = ok
    end
    self:log_warn("handler could not process entries: %s", tostring(err or "no error details returned by handler"))
    if not err then
      self:log_err("handler returned falsy value but no error information")
    end
    update_time()
    if premature or now() - started > self.max_retry_time then
      self:log_err("could not send entries due to max_retry_time exceeded. %d queue entries were lost", #batch)
      return done()
    end
    local delay = min(self.max_retry_delay, 2 ^ retries * self.initial_retry_delay)
    retries = retries + 1
    local set, terr = timer_at(delay, function(p) return attempt(p) end)
    if not set then
      self:log_err("could not schedule a retry: %s; %d queue entries were lost", tostring(terr), #batch)
      return done()
    end
  end
  return attempt(false)
end

-- flush hands the next batch over (concurrency_limit 1).
local function flush(self, premature)
  self.timer_due = nil
  if self.busy or self:count() == 0 then
    return
  end
  local n = min(self.max_batch_size, self:count())
  local batch = { unpack(self.entries, self.front, self.front + n - 1) }
  for _ = 1, n do
    take(self)
  end
  if self.already_dropped_entries then
    self:log_info("queue resumed processing")
    self.already_dropped_entries = false
  end
  self.busy = true
  self:log_trace("processing queue")
  deliver(self, batch, function()
    self.busy = false
    if self:count() == 0 then
      self:log_trace("done processing queue")
      if queues[self.key] == self then
        queues[self.key] = nil
      end
      return
    end
    if premature then
      return flush(self, true)
    end
    -- the next batch starts filling now, as Kong's next process_once
    self.batch_started = now()
    schedule(self)
  end)
end

-- schedule sets the timer that ends the current batch's wait: at once when
-- it is full (or its coalescing time is nearly over), else when the
-- coalescing delay ends.
schedule = function(self)
  if self.busy then
    return
  end
  update_time()
  local t = now()
  self.batch_started = self.batch_started or t
  local left = self.max_coalescing_delay - (t - self.batch_started)
  local due
  if self:count() >= self.max_batch_size or left < COALESCE_MIN_TIME then
    due = t
  else
    due = t + left
  end
  if self.timer_due and self.timer_due <= due then
    return -- an earlier (or the same) wake-up is already set
  end
  self.timer_due = due
  self.generation = (self.generation or 0) + 1
  local gen = self.generation
  local ok, err = timer_at(due - t, function(premature)
    if gen ~= self.generation then
      return -- replaced by an earlier wake-up
    end
    self.batch_started = nil
    return flush(self, premature)
  end)
  if not ok then
    self.timer_due = nil
    self:log_err("could not create a timer: %s", tostring(err))
  end
end

local function get_or_create(queue_conf, handler, handler_conf)
  local name = queue_conf.name
  local key = queue_key(name)
  local queue = queues[key]
  if queue then
    queue:log_trace("queue exists")
    -- the latest handler configuration wins, as in Kong
    queue.handler_conf = handler_conf
    return queue
  end
  queue = {
    name = name,
    key = key,
    handler = handler,
    handler_conf = handler_conf,
    bytes_queued = 0,
    entries = {},
    front = 1,
    back = 1,
  }
  for k, v in pairs(queue_conf) do
    queue[k] = v
  end
  queue = setmetatable(queue, Queue_mt)
  if queue.concurrency_limit == 1 then
    queues[key] = queue
  end
  queue:log_trace("queue created")
  return queue
end

local function enqueue(self, entry)
  if entry == nil then
    return nil, "entry must be a non-nil Lua value"
  end

  if self.concurrency_limit == -1 then
    local ok, err = timer_at(0, function(premature)
      if premature then
        return
      end
      deliver(self, { entry }, function() end)
    end)
    if not ok then
      return nil, "failed to crete timer: " .. tostring(err)
    end
    return true
  end

  if self:count() >= self.max_entries * CAPACITY_WARNING_THRESHOLD then
    if not self.warned then
      self:log_warn("queue at %s%% capacity", CAPACITY_WARNING_THRESHOLD * 100)
      self.warned = true
    end
  else
    self.warned = nil
  end

  if remaining(self) <= 0 then
    self:log_err("queue full, dropping old entries until processing is successful again")
    take(self)
    self.already_dropped_entries = true
  end

  if too_large(self, entry) then
    local msg = fmt("string to be queued is longer (%d bytes) than the queue's max_bytes (%d bytes)", #entry, self.max_bytes)
    self:log_err(msg)
    return nil, msg
  end

  if exceeds_bytes(self, entry) then
    local dropped = 0
    repeat
      take(self)
      dropped = dropped + 1
      self.already_dropped_entries = true
    until not exceeds_bytes(self, entry)
    self:log_err("byte capacity exceeded, %d queue entries were dropped", dropped)
  end

  if self.max_bytes then
    if type(entry) ~= "string" then
      self:log_err("queuing non-string entry to a queue that has queue.max_bytes set, capacity monitoring will not be correct")
    else
      self.bytes_queued = self.bytes_queued + #entry
    end
  end

  self.entries[self.back] = entry
  self.back = self.back + 1
  schedule(self)
  return true
end

local function check_number(conf, field)
  assert(type(conf[field]) == "number", "arg #1 (queue_conf) " .. field .. " must be a number")
end

function Queue.enqueue(queue_conf, handler, handler_conf, value)
  assert(type(queue_conf) == "table", "arg #1 (queue_conf) must be a table")
  assert(type(handler) == "function", "arg #2 (handler) must be a function")
  assert(handler_conf == nil or type(handler_conf) == "table", "arg #3 (handler_conf) must be a table or nil")
  assert(type(queue_conf.name) == "string", "arg #1 (queue_conf) must include a name")
  for _, field in ipairs { "max_batch_size", "max_coalescing_delay", "max_entries", "max_retry_time",
                           "initial_retry_delay", "max_retry_delay" } do
    check_number(queue_conf, field)
  end
  local mb = type(queue_conf.max_bytes)
  assert(mb == "nil" or mb == "number", "arg #1 (queue_conf) max_bytes must be a number or nil")
  check_number(queue_conf, "concurrency_limit")

  return enqueue(get_or_create(queue_conf, handler, handler_conf), value)
end

function Queue.exists(name)
  return queues[queue_key(name)] and true or false
end

function Queue.is_full(queue_conf)
  local queue = queues[queue_key(queue_conf.name)]
  if not queue then
    return false -- made on demand, empty
  end
  return is_full(queue)
end

function Queue.can_enqueue(queue_conf, entry)
  local queue = queues[queue_key(queue_conf.name)]
  if not queue then
    return true
  end
  return can_enqueue(queue, entry)
end

-- _exists: the queue still holds entries (Kong's test helper).
function Queue._exists(name)
  local queue = queues[queue_key(name)]
  return queue and queue:count() > 0
end

Queue._CAPACITY_WARNING_THRESHOLD = CAPACITY_WARNING_THRESHOLD

local warned_at = {}

local function warn_legacy(name, message)
  local key = name .. "/" .. message
  if now() - (warned_at[key] or 0) >= MIN_WARNING_INTERVAL_SECONDS then
    kong.log.warn(message)
    warned_at[key] = now()
  end
end

local function set(v)
  return v ~= nil and v ~= null
end

-- get_plugin_params reads a plugin's queue settings (config.queue), with
-- the log tag naming the plugin instance and the legacy parameters of
-- Kong < 3.3 mapped onto the new ones, each with Kong's warning.
function Queue.get_plugin_params(plugin_name, config, queue_name)
  local q = config.queue or {}
  local id = kong.plugin.get_id()
  local tag = plugin_name .. " plugin " .. tostring(id)
  if config.plugin_instance_name then
    tag = tag .. " (" .. config.plugin_instance_name .. ")"
  end
  q.log_tag = tag
  if not q.name then
    q.name = queue_name or id
  end
  if set(config.retry_count) and config.retry_count ~= 10 then
    warn_legacy(q.name, "the retry_count parameter no longer works, please update "
      .. "your configuration to use initial_retry_delay and max_retry_time instead")
  end
  local legacy = {
    { "queue_size", 1, "max_batch_size" },
    { "flush_timeout", 2, "max_coalescing_delay" },
    { "batch_span_count", 200, "max_batch_size" },
    { "batch_flush_delay", 3, "max_coalescing_delay" },
  }
  for _, l in ipairs(legacy) do
    local old, default, new = l[1], l[2], l[3]
    if set(config[old]) and config[old] ~= default then
      q[new] = config[old]
      warn_legacy(q.name, "the " .. old .. " parameter is deprecated, please update your "
        .. "configuration to use queue." .. new .. " instead")
    end
  end
  return q
end

return Queue
