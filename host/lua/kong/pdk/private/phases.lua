-- luahost's kong.pdk.private.phases: Kong's phase bit masks (the values
-- ngx.ctx.KONG_PHASE holds), new/check/check_not and the phases table
-- with its aliases, Kong's messages. Kong's module maps each mask back to
-- its name in the same table; gopher-lua stores an integer key below 2^26
-- in the table's array part, filling every slot below it, so the reverse
-- entry of `error` (0x01000000) alone would allocate 16 million slots
-- (256 MB) and take seconds: the reverse names are answered by __index.
local bit = require "bit"

local band, bor, lshift = bit.band, bit.bor, bit.lshift
local fmt = string.format
local concat = table.concat

local MASKS = {
  init_worker = 0x00000001,
  certificate = 0x00000002,
  client_hello = 0x00000008,
  rewrite = 0x00000010,
  access = 0x00000020,
  balancer = 0x00000040,
  response = 0x00000080,
  cluster_listener = 0x00000100,
  header_filter = 0x00000200,
  body_filter = 0x00000400,
  log = 0x00002000,
  preread = 0x00004000,
  error = 0x01000000,
  admin_api = 0x10000000,
}

local NAMES = {}
for name, mask in pairs(MASKS) do
  NAMES[#NAMES + 1] = { mask, name }
end

local function name_of(mask)
  for _, e in ipairs(NAMES) do
    if e[1] == mask then
      return e[2]
    end
  end
  return nil
end

-- name -> mask as stored keys, mask -> name through __index (see above)
local PHASES = { n = 30 }
for name, mask in pairs(MASKS) do
  PHASES[name] = mask
end
setmetatable(PHASES, {
  __index = function(_, k)
    if type(k) == "number" then
      return name_of(k)
    end
  end,
})

local function new_phase(...)
  return bor(...)
end

local function names_of(mask)
  local out = {}
  local n = 1
  for _ = 1, PHASES.n do
    if band(mask, n) ~= 0 and PHASES[n] then
      out[#out + 1] = PHASES[n]
    end
    n = lshift(n, 1)
  end
  return out
end

local function current(accepted)
  local phase = ngx.ctx.KONG_PHASE
  if phase then
    return phase
  end
  if accepted and ngx.get_phase() == "content" then
    return PHASES.admin_api
  end
  if accepted then
    error(fmt("no phase in ngx.ctx.KONG_PHASE, (need one of %s)", concat(names_of(accepted), ", ")), 4)
  end
  error("no phase in ngx.ctx.KONG_PHASE", 4)
end

local function check_phase(accepted)
  if not kong or not kong.ctx then
    return
  end
  local phase = current(accepted)
  if band(phase, accepted) ~= 0 then
    return
  end
  error(fmt("function cannot be called in %s phase (only in: %s)",
    PHASES[phase] or "'unknown phase'", concat(names_of(accepted), ", ")), 3)
end

local function check_not_phase(rejected)
  if not kong or not kong.ctx then
    return
  end
  local phase = current(nil)
  if band(phase, rejected) == 0 then
    return
  end
  error(fmt("function cannot be called in %s phase (can be called in any phases except: %s)",
    PHASES[phase] or "'unknown phase'", concat(names_of(rejected), ", ")), 3)
end

local public = {
  request = new_phase(MASKS.rewrite, MASKS.access, MASKS.balancer, MASKS.response, MASKS.header_filter,
    MASKS.body_filter, MASKS.log, MASKS.error, MASKS.admin_api, MASKS.cluster_listener),
  n = PHASES.n,
}
for name, mask in pairs(MASKS) do
  public[name] = mask
end
setmetatable(public, {
  __index = function(_, k)
    if type(k) == "number" then
      local name = name_of(k)
      if name then
        return name
      end
    end
    error("unknown phase or phase alias: " .. tostring(k))
  end,
})

return {
  new = new_phase,
  check = check_phase,
  check_not = check_not_phase,
  phases = public,
}
