-- luahost shim for Penlight's `pl.template` (1.x). Covers: compile(str,
-- opts) -> template or nil, error, with opts.escape (code-line prefix,
-- default "#"), opts.inline_escape (default "$"), opts.inline_brackets
-- (default "()") and opts.chunk_name; template:render(env, parent) ->
-- string or nil, error; and substitute(str, env) (compile + render, with
-- env's _escape / _brackets / _inline_escape / _chunk_name / _parent).
-- Not covered: the newline and debug options, render's db argument.

local concat = table.concat
local format = string.format
local find = string.find
local sub = string.sub
local gsub = string.gsub
local loadstring = loadstring
local setfenv = setfenv
local setmetatable = setmetatable
local xpcall = xpcall
local traceback = debug.traceback
local tostring = tostring

local template = {}

local function pattern_escape(s)
  return (gsub(s, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- Emits the code for one text line: literal text and $(expr) inserts.
local function emit_text(line, inline, open, close, out)
  local marker = inline .. open
  local pos = 1
  while true do
    local s = find(line, marker, pos, true)
    if not s then
      break
    end
    local bstart = s + #inline
    local _, bend = find(line, "%b" .. open .. close, bstart)
    if not bend or find(line, open, bstart, true) ~= bstart then
      break
    end
    if s > pos then
      out[#out + 1] = format("_put(%q)", sub(line, pos, s - 1))
    end
    -- Penlight writes `tostring(expr or "")`: nil and false render as ""
    out[#out + 1] = "_put(__tostring((" .. sub(line, bstart + 1, bend - 1) .. ") or ''))"
    pos = bend + 1
  end
  if pos <= #line then
    out[#out + 1] = format("_put(%q)", sub(line, pos))
  end
end

local Template = {}
Template.__index = Template

function template.compile(str, opts)
  opts = opts or {}
  local escape = opts.escape or "#"
  local inline = opts.inline_escape or "$"
  local brackets = opts.inline_brackets or "()"
  local open, close = sub(brackets, 1, 1), sub(brackets, 2, 2)
  local code_line = "^[ \t]*" .. pattern_escape(escape) .. "(.*)$"

  local out = { "local _put, __tostring = ... " }
  local pos, len = 1, #str
  while pos <= len do
    local nl = find(str, "\n", pos, true)
    local line = sub(str, pos, nl or len)
    pos = (nl or len) + 1
    local body = line
    if sub(body, -1) == "\n" then
      body = sub(body, 1, -2)
    end
    local code = body:match(code_line)
    if code then
      out[#out + 1] = code
    else
      emit_text(line, inline, open, close, out)
    end
  end

  local src = concat(out, "\n")
  local fn, err = loadstring(src, opts.chunk_name or "TMP")
  if not fn then
    return nil, err
  end
  return setmetatable({ fn = fn, code = src }, Template)
end

--- render(env, parent): the output, or nil and the error (with traceback).
-- Names resolve in env, then in parent.
function Template:render(env, parent)
  env = env or {}
  if parent then
    setmetatable(env, { __index = parent })
  end
  local scope = setmetatable({}, { __index = env })
  setfenv(self.fn, scope)
  local buf, n = {}, 0
  local function put(s)
    n = n + 1
    buf[n] = s
  end
  local ok, err = xpcall(function() self.fn(put, tostring) end, traceback)
  if not ok then
    return nil, err, self.code
  end
  return concat(buf, "", 1, n)
end

function template.substitute(str, env)
  env = env or {}
  local t, err = template.compile(str, {
    chunk_name = env._chunk_name,
    escape = env._escape,
    inline_escape = env._inline_escape,
    inline_brackets = env._brackets,
  })
  if not t then
    return nil, err
  end
  return t:render(env, env._parent)
end

return template
