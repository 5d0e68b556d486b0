local Runaway = {
  PRIORITY = 5,
  VERSION = "0.1.0",
}

function Runaway:access(conf)
  if conf and conf.spin then
    while true do end
  end
  ngx.ctx.ran = (ngx.ctx.ran or 0) + 1
end

function Runaway:log(conf)
  error("log phase failed on purpose")
end

return Runaway
