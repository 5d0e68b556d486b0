-- socket.url, kong.reports, kong.tools.redis.schema and Schema.validators.

describe("socket.url", function()
  local url = require "socket.url"

  it("escapes and unescapes", function()
    assert.equal("a%20b%2fc_d%3f", url.escape("a b/c_d?"))
    assert.equal("a b/c_d?", url.unescape("a%20b%2Fc_d%3f"))
  end)

  it("parses every component", function()
    local p = url.parse("https://user:pa:ss@example.com:8443/p/a;par?q=1&r=2#frag")
    assert.same({
      scheme = "https",
      authority = "user:pa:ss@example.com:8443",
      userinfo = "user:pa:ss",
      user = "user:pa",
      password = "ss",
      host = "example.com",
      port = "8443",
      path = "/p/a",
      params = "par",
      query = "q=1&r=2",
      fragment = "frag",
    }, p)
  end)

  it("parses IPv6 hosts, defaults and bad input", function()
    local p = url.parse("http://[::1]:80/x")
    assert.equal("::1", p.host)
    assert.equal("80", p.port)
    p = url.parse("//h", { scheme = "http", port = 80 })
    assert.equal("http", p.scheme)
    assert.equal("h", p.host)
    assert.equal(80, p.port)
    p = url.parse("/only/path?x")
    assert.same({ path = "/only/path", query = "x" }, p)
    local np, err = url.parse("")
    assert.is_nil(np)
    assert.equal("invalid url", err)
    assert.equal("example.com", url.parse(" http://exa mple.com ").host)
  end)

  it("builds from parts", function()
    assert.equal("https://u:p@[::1]:8443/a;b?c#d", url.build({
      scheme = "https", host = "::1", port = 8443, user = "u", password = "p",
      path = "/a", params = "b", query = "c", fragment = "d",
    }))
    local s = "http://example.com/cb?code=1"
    assert.equal(s, url.build(url.parse(s)))
  end)

  it("resolves relative URLs", function()
    local base = "http://a/b/c/d;p?q"
    assert.equal("g:h", url.absolute(base, "g:h"))
    assert.equal("http://a/b/c/g", url.absolute(base, "g"))
    assert.equal("http://a/b/c/g/", url.absolute(base, "./g/"))
    assert.equal("http://a/g", url.absolute(base, "/g"))
    assert.equal("http://g", url.absolute(base, "//g"))
    assert.equal("http://a/b/c/d;p?y", url.absolute(base, "?y"))
    assert.equal("http://a/b/", url.absolute(base, ".."))
    assert.equal("http://a/b/g", url.absolute(base, "../g"))
    assert.equal("http://a/g", url.absolute(base, "../../g"))
  end)

  it("parses and builds paths", function()
    local p = url.parse_path("/a%20b/c/")
    assert.same({ "a b", "c", is_absolute = 1, is_directory = 1 }, p)
    assert.equal("/a%20b/c/", url.build_path(p))
    assert.equal("/a b/c/", url.build_path(p, true))
    assert.equal("x/y", url.build_path(url.parse_path("x/y")))
  end)
end)

describe("kong.reports", function()
  it("has Kong's functions and reports nothing", function()
    local reports = require "kong.reports"
    for _, name in ipairs({ "init", "init_worker", "toggle", "send", "send_ping",
                            "log", "configure_ping", "retrieve_redis_version" }) do
      assert.is_function(reports[name], name)
      assert.is_nil(reports[name]({}))
    end
    reports.add_ping_value("k", "v")
    assert.equal("v", reports.get_ping_value("k"))
    reports.add_immutable_value("i", 1)
    reports.add_immutable_value("i", 2)
    assert.equal(1, reports.get_ping_value("i"))
  end)
end)

describe("kong.tools.redis.schema", function()
  local Schema = require "kong.db.schema"
  local redis = require("kong.tools.redis.schema").config_schema

  it("is a record with Kong's fields and defaults", function()
    assert.equal("record", redis.type)
    local names = {}
    for i, f in ipairs(redis.fields) do
      names[i] = next(f)
    end
    assert.same({ "host", "port", "timeout", "username", "password", "database",
                  "ssl", "ssl_verify", "server_name" }, names)
    assert.equal(6379, redis.fields[2].port.default)
    assert.equal(2000, redis.fields[3].timeout.default)
    assert.equal(0, redis.fields[6].database.default)
    assert.is_true(redis.fields[5].password.encrypted)
  end)

  it("fills defaults and validates through Schema.new", function()
    local s = assert(Schema.new({ name = "t", fields = { { redis = redis } } }))
    local data = s:process_auto_fields({ redis = { host = "localhost" } }, "insert")
    assert.equal(6379, data.redis.port)
    assert.equal(2000, data.redis.timeout)
    assert.equal(0, data.redis.database)
    assert.is_false(data.redis.ssl)
    assert.is_true(s:validate(data))
    data.redis.port = 70000
    local ok, errs = s:validate(data)
    assert.is_nil(ok)
    assert.equal("value should be between 0 and 65535", errs.redis.port)
  end)
end)

describe("kong.db.schema validators", function()
  it("is_regex accepts regexes and refuses broken ones", function()
    local is_regex = require("kong.db.schema").validators.is_regex
    assert.is_true(is_regex("^https?://.*\\.example\\.com$"))
    assert.is_false(is_regex("(unclosed"))
  end)
end)
