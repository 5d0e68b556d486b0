-- kong.conf_loader: Kong's configuration table from defaults, a file,
-- KONG_* variables and custom_conf, typed as kong.configuration
local helpers = require "spec.helpers"
local conf_loader = require "kong.conf_loader"

describe("kong.conf_loader", function()
  local dir, file
  lazy_setup(function()
    dir = helpers.make_temp_dir()
    file = dir .. "/kong.conf"
    local f = assert(io.open(file, "w"))
    f:write("pg_host = db.test # the database\npg_port = 5440\nlog_level = info\nplugins = bundled, add-header\n")
    f:close()
  end)
  after_each(function() helpers.unsetenv("KONG_PG_PORT") end)

  it("answers custom_conf's values typed, over Kong's defaults", function()
    local conf = assert(conf_loader(nil, {
      pg_port = 5433,
      pg_ssl = true,
      plugins = { "bundled", "add-header" },
      proxy_listen = "127.0.0.1:9000, 127.0.0.1:9443 ssl http2 reuseport backlog=16",
    }))
    assert.equal(5433, conf.pg_port)
    assert.is_true(conf.pg_ssl)
    assert.is_false(conf.pg_ssl_verify)
    assert.same({ "bundled", "add-header" }, conf.plugins)
    assert.is_true(conf.loaded_plugins["add-header"])
    assert.is_string(conf.pg_user) -- Kong's default, or KONG_PG_USER
    assert.equal(2, #conf.proxy_listeners)
    local l = conf.proxy_listeners[2]
    assert.equal("127.0.0.1", l.ip)
    assert.equal(9443, l.port)
    assert.is_true(l.ssl)
    assert.is_true(l.http2)
    assert.is_true(l.reuseport)
    assert.is_false(conf.proxy_listeners[1].ssl)
    assert.equal("127.0.0.1:9443 ssl reuseport backlog=16", l.listener)
    assert.is_true(conf.proxy_ssl_enabled)
    assert.equal(8001, conf.admin_listeners[1].port)
    assert.same({}, conf.stream_listeners)
    -- the module's load is the same function
    assert.equal(5433, conf_loader.load(nil, { pg_port = "5433" }).pg_port)
  end)

  it("reads a file, KONG_* over it, custom_conf over both", function()
    local conf = assert(conf_loader(file))
    assert.equal("db.test", conf.pg_host)
    assert.equal(5440, conf.pg_port)
    assert.equal("info", conf.log_level)
    assert.same({ "bundled", "add-header" }, conf.plugins)
    helpers.setenv("KONG_PG_PORT", "5441")
    assert.equal(5441, assert(conf_loader(file)).pg_port)
    assert.equal(5442, assert(conf_loader(file, { pg_port = 5442 })).pg_port)
  end)

  it("refuses what Kong refuses", function()
    local conf, err = conf_loader(nil, { pg_port = "abc" })
    assert.is_nil(conf)
    assert.equal("pg_port is not a number: 'abc'", err)
    conf, err = conf_loader(dir .. "/absent.conf")
    assert.is_nil(conf)
    assert.equal("no file at: " .. dir .. "/absent.conf", err)
    conf, err = conf_loader(nil, { proxy_listen = "nowhere" })
    assert.is_nil(conf)
    assert.matches("proxy_listen must be of form", err, nil, true)
  end)

  it("load_config_file answers the file alone, as strings", function()
    local t = assert(conf_loader.load_config_file(file))
    assert.same({ pg_host = "db.test", pg_port = "5440", log_level = "info", plugins = "bundled, add-header" }, t)
    local none, err = conf_loader.load_config_file(dir .. "/absent.conf")
    assert.is_nil(none)
    assert.is_string(err)
  end)
end)
