-- luahost shim for LuaJIT's `string.buffer` (2.1). Covers: new([size]
-- [, options]), buf:put(...), buf:putf(fmt, ...), buf:get([len, ...]),
-- buf:tostring() and tostring(buf), #buf (and buf:len(), a luahost
-- extra), buf .. x, buf:set(str), buf:skip(len), buf:reset(), buf:free().
-- buf:reserve, buf:commit and buf:ref are absent (no FFI). Serialization (buffer.encode,
-- buffer.decode, buf:encode, buf:decode) is NOT provided: those raise an
-- error naming the missing feature.

local setmetatable = setmetatable
local getmetatable = getmetatable
local tostring = tostring
local type = type
local concat = table.concat
local format = string.format
local sub = string.sub
local select = select
local error = error
local unpack = unpack

local _M = {}
local Buf = {}
local mt = { __index = Buf }

local function is_buf(v)
  return getmetatable(v) == mt
end

-- The contents are self.s plus the pending pieces self[1..self.n]; a read
-- first folds the pieces into self.s.
local function flatten(self)
  local n = self.n
  if n > 0 then
    self.s = self.s .. concat(self, "", 1, n)
    for i = 1, n do
      self[i] = nil
    end
    self.n = 0
  end
  return self.s
end

local function append(self, s)
  local n = self.n + 1
  self[n] = s
  self.n = n
  self.len_ = self.len_ + #s
end

function _M.new(_size, _options)
  return setmetatable({ s = "", n = 0, len_ = 0 }, mt)
end

function _M.encode()
  error("string.buffer.encode is not available in luahost", 2)
end

function _M.decode()
  error("string.buffer.decode is not available in luahost", 2)
end

--- put(...): appends each argument (strings, numbers, buffers, or objects
-- with __tostring); returns the buffer.
function Buf:put(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    local tv = type(v)
    if tv == "string" then
      append(self, v)
    elseif tv == "number" then
      append(self, tostring(v))
    elseif is_buf(v) then
      append(self, flatten(v))
    else
      local m = getmetatable(v)
      if m and m.__tostring then
        append(self, tostring(v))
      else
        error(format("bad argument #%d to 'put' (string expected, got %s)", i, tv), 2)
      end
    end
  end
  return self
end

--- putf(fmt, ...): appends string.format(fmt, ...); returns the buffer.
function Buf:putf(fmt, ...)
  append(self, format(fmt, ...))
  return self
end

--- get([len, ...]): consumes and returns the whole contents, or one string
-- per length (a nil length takes the rest; lengths past the end give what
-- is left, then "").
function Buf:get(...)
  local s = flatten(self)
  local nargs = select("#", ...)
  if nargs == 0 then
    self.s, self.len_ = "", 0
    return s
  end
  local out = {}
  local pos = 1
  for i = 1, nargs do
    local len = select(i, ...)
    local piece
    if len == nil then
      piece = sub(s, pos)
    else
      if len < 0 then
        len = 0
      end
      piece = sub(s, pos, pos + len - 1)
    end
    pos = pos + #piece
    out[i] = piece
  end
  self.s = sub(s, pos)
  self.len_ = #self.s
  return unpack(out, 1, nargs)
end

function Buf:tostring()
  return flatten(self)
end

function Buf:len()
  return self.len_
end

--- set(str): replaces the contents with str; returns the buffer.
function Buf:set(str)
  if is_buf(str) then
    str = flatten(str)
  end
  self:reset()
  self.s, self.len_ = str, #str
  return self
end

--- skip(len): drops len bytes from the front; returns the buffer.
function Buf:skip(len)
  local s = flatten(self)
  self.s = sub(s, len + 1)
  self.len_ = #self.s
  return self
end

function Buf:reset()
  for i = 1, self.n do
    self[i] = nil
  end
  self.s, self.n, self.len_ = "", 0, 0
  return self
end

function Buf:free()
  self:reset()
end

Buf.encode = _M.encode
Buf.decode = _M.decode

mt.__tostring = function(self) return flatten(self) end
mt.__len = function(self) return self.len_ end
mt.__concat = function(a, b)
  if is_buf(a) then a = flatten(a) end
  if is_buf(b) then b = flatten(b) end
  return a .. b
end

return _M
