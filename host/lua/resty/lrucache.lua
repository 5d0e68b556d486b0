-- luahost shim for OpenResty's `resty.lrucache` (lua-resty-lrucache 0.13).
-- Covers: new(size), get(key) -> value, stale value, flags; set(key, value,
-- ttl, flags); delete(key); flush_all(); count(); capacity(); get_keys(max,
-- res). Entries expire ttl seconds after set (ngx.now()); a nil or
-- non-positive ttl never expires. Per worker, like upstream (one LState).

local setmetatable = setmetatable
local type = type
local now = ngx.now

local _M = { _VERSION = "0.13" }
local mt = { __index = _M }

-- The recency list is doubly linked through two sentinel nodes: head.next
-- is the most recently used entry, tail.prev the least.
local function unlink(node)
  node.prev.next = node.next
  node.next.prev = node.prev
end

local function push_front(self, node)
  local head = self.head
  node.prev = head
  node.next = head.next
  head.next.prev = node
  head.next = node
end

--- new(size): a cache of at most size entries, or nil and an error.
function _M.new(size)
  if type(size) ~= "number" or size < 1 then
    return nil, "size too small"
  end
  local head, tail = {}, {}
  head.next, tail.prev = tail, head
  return setmetatable({
    size = size, n = 0, head = head, tail = tail, nodes = {},
  }, mt)
end

--- get(key): value, nil, flags when fresh; nil, stale value, flags when
-- expired; nil when absent. A hit (even stale) becomes most recently used.
function _M:get(key)
  local node = self.nodes[key]
  if node == nil then
    return nil
  end
  unlink(node)
  push_front(self, node)
  if node.expire >= 0 and node.expire < now() then
    return nil, node.value, node.flags
  end
  return node.value, nil, node.flags
end

--- set(key, value, ttl, flags): stores value, evicting the least recently
-- used entry when the cache is full. flags (a number) is returned by get.
function _M:set(key, value, ttl, flags)
  local node = self.nodes[key]
  if node then
    unlink(node)
  else
    if self.n >= self.size then
      local victim = self.tail.prev
      unlink(victim)
      self.nodes[victim.key] = nil
      self.n = self.n - 1
    end
    node = { key = key }
    self.nodes[key] = node
    self.n = self.n + 1
  end
  push_front(self, node)
  node.value = value
  if type(ttl) == "number" and ttl > 0 then
    node.expire = now() + ttl
  else
    node.expire = -1
  end
  node.flags = type(flags) == "number" and flags or 0
end

--- delete(key): true when key was present, false otherwise.
function _M:delete(key)
  local node = self.nodes[key]
  if node == nil then
    return false
  end
  unlink(node)
  self.nodes[key] = nil
  self.n = self.n - 1
  return true
end

--- flush_all(): removes every entry.
function _M:flush_all()
  self.head.next, self.tail.prev = self.tail, self.head
  self.nodes = {}
  self.n = 0
end

function _M:count()
  return self.n
end

function _M:capacity()
  return self.size
end

--- get_keys(max_count, res): the keys from most to least recently used (at
-- most max_count of them; nil or 0 means all), written into res when
-- given (res is terminated with nil after the last key).
function _M:get_keys(max_count, res)
  if not max_count or max_count == 0 then
    max_count = self.n
  end
  res = res or {}
  local i, node = 0, self.head.next
  while node ~= self.tail and i < max_count do
    i = i + 1
    res[i] = node.key
    node = node.next
  end
  res[i + 1] = nil
  return res
end

return _M
