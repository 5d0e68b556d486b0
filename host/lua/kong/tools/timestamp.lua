-- luahost shim for Kong's `kong.tools.timestamp` (used by rate-limiting
-- style plugins). Covers: get_utc, get_utc_ms, get_timestamps,
-- timestamp_table_fields. Not covered: get_timetable (Kong returns a luatz
-- timetable).

local native = require "luahost.native"

local floor = math.floor

local fields = { "second", "minute", "hour", "day", "month", "year" }

return {
  -- now in ms, truncated to the second
  get_utc = function()
    return floor(native.now_ms() / 1000) * 1000
  end,
  get_utc_ms = function()
    return native.now_ms()
  end,
  -- get_timestamps(now_ms?) -> start of the current second ... year, in ms
  -- (UTC); like Kong, a "now" below year 20000 in seconds is read as seconds
  get_timestamps = function(now)
    if now and now <= 568971820800 then
      now = now * 1000
    end
    return native.timestamps(now)
  end,
  -- a plain array (Kong's is read-only through a proxy; plain keeps # and
  -- ipairs working on Lua 5.1)
  timestamp_table_fields = fields,
}
