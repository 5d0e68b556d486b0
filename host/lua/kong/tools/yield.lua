-- luahost shim for Kong's `kong.tools.yield` (3.x). Covers: yield,
-- in_yieldable_phase. A luahost worker serves one request at a time, so
-- yield has nothing to give way to and returns at once.

local yieldable = {
  rewrite = true, server_rewrite = true, access = true, content = true,
  timer = true, ssl_client_hello = true, ssl_certificate = true,
  ssl_session_fetch = true, preread = true,
}

return {
  in_yieldable_phase = function(phase)
    return yieldable[phase or ngx.get_phase()]
  end,
  yield = function()
  end,
}
