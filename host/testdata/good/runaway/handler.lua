local Runaway = {
  PRIORITY = 5,
  VERSION = "0.1.0",
}

function Runaway:access(conf)
  if conf and conf.spin then
    while true do end
  end
  if conf and conf.swallow then
    -- the deadline's error caught by pcall, then a normal return
    pcall(function() while true do end end)
    return
  end
  if conf and conf.late then
    -- the deadline stops a cache callback; its error comes back as a
    -- value, and the handler returns it with nothing left to run
    return kong.cache:get("runaway-late", nil, function() while true do end end)
  end
  ngx.ctx.ran = (ngx.ctx.ran or 0) + 1
end

function Runaway:log(conf)
  error("log phase failed on purpose")
end

return Runaway
