-- kong.db.schema.typedefs (KONG-REFERENCE §1.10): the definition tables,
-- Schema.define call semantics, the unknown-typedef error, and validation
-- of values through Schema.new with Kong's messages.
local Schema = require "kong.db.schema"
local typedefs = require "kong.db.schema.typedefs"

local null = ngx.null

-- check(td, value): true, or nil and the error of field f.
local function check(td, value)
  local s = assert(Schema.new({ name = "t", fields = { { f = td } } }))
  local ok, errs = s:validate({ f = value })
  if ok then
    return true
  end
  return nil, errs.f
end

local function fails(td, value, msg)
  local ok, err = check(td, value)
  assert.is_nil(ok, "expected " .. tostring(value) .. " to fail")
  assert.same(msg, err)
end

local function passes(td, value)
  local ok, err = check(td, value)
  assert.is_true(ok, err and require("luahost.pretty")(err) or nil)
end

describe("typedefs definitions", function()
  it("are field definitions with Kong's attributes", function()
    assert.equal("integer", typedefs.port.type)
    assert.same({ 0, 65535 }, typedefs.port.between)
    assert.same({ 0, 2 ^ 31 - 2 }, typedefs.timeout.between)
    assert.same({ 0, 100000000 }, typedefs.ttl.between)
    assert.equal("number", typedefs.ttl.type)
    assert.equal("^%u+$", typedefs.http_method.match)
    assert.is_true(typedefs.uuid.uuid)
    assert.is_true(typedefs.uuid.auto)
    assert.is_true(typedefs.auto_timestamp_s.timestamp)
    assert.equal("integer", typedefs.auto_timestamp_s.type)
    assert.equal("number", typedefs.auto_timestamp_ms.type)
    assert.is_true(typedefs.name.unique)
    assert.is_true(typedefs.utf8_name.unique)
    assert.is_true(typedefs.tag.required)
    assert.equal("/", typedefs.path.starts_with)
    assert.same({ { pattern = "//", err = "must not have empty segments" } }, typedefs.path.match_none)
    assert.equal("string", typedefs.capability.type)
  end)

  it("protocols are Kong's sorted lists", function()
    assert.same({ "grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp" },
                typedefs.protocol.one_of)
    assert.same({ "grpc", "grpcs", "http", "https" }, typedefs.protocols.default)
    assert.is_true(typedefs.protocols.required)
    assert.equal("set", typedefs.protocols.type)
    assert.equal(typedefs.protocol, typedefs.protocols.elements)
    assert.same({ "grpc", "grpcs", "http", "https" }, typedefs.protocols_http.elements.one_of)
  end)

  it("foreign no_* typedefs reference their entity with eq = null", function()
    for name, ref in pairs({ no_route = "routes", no_service = "services", no_consumer = "consumers" }) do
      assert.equal("foreign", typedefs[name].type)
      assert.equal(ref, typedefs[name].reference)
      assert.equal(null, typedefs[name].eq)
    end
  end)

  it("no_* collection typedefs are their typedef with eq = null", function()
    for name, base in pairs({ no_sources = "sources", no_destinations = "destinations",
                              no_methods = "methods", no_hosts = "hosts", no_paths = "router_paths",
                              no_headers = "headers" }) do
      assert.equal(null, typedefs[name].eq, name)
      assert.equal(typedefs[base].type, typedefs[name].type, name)
      assert.is_nil(typedefs[base].eq, base)
    end
  end)

  it("descriptions fit Kong's metaschema (10 to 500 characters)", function()
    local names = { "http_method", "protocol", "host", "redis_host", "host_with_optional_port",
      "wildcard_host", "ip", "ip_or_cidr", "cidr_v4", "port", "path", "url", "cookie_name",
      "header_name", "timeout", "uuid", "auto_timestamp_s", "auto_timestamp_ms", "no_route",
      "no_service", "no_consumer", "name", "utf8_name", "sni", "redis_server_name", "certificate",
      "key", "tag", "tags", "capability", "protocols", "protocols_http", "sources", "no_sources",
      "destinations", "no_destinations", "methods", "no_methods", "hosts", "no_hosts", "router_path",
      "router_paths", "no_paths", "paths", "headers", "no_headers", "semantic_version", "pem", "jwk",
      "lua_code", "ttl" }
    for _, name in ipairs(names) do
      local d = typedefs[name].description
      assert.is_string(d, name)
      assert.is_true(#d >= 10 and #d <= 500, name)
    end
  end)

  it("validators shared by several typedefs are the same value", function()
    assert.equal(typedefs.host.custom_validator, typedefs.redis_host.custom_validator)
    assert.equal(typedefs.sni.custom_validator, typedefs.redis_server_name.custom_validator)
    assert.not_equal(typedefs.host.custom_validator, typedefs.sni.custom_validator)
  end)

  it("cidr is cidr_v4, tags hold tag, router_paths hold router_path", function()
    assert.equal(typedefs.cidr_v4, typedefs.cidr)
    assert.equal(typedefs.tag, typedefs.tags.elements)
    assert.equal(typedefs.router_path, typedefs.router_paths.elements)
    assert.equal(typedefs.http_method, typedefs.methods.elements)
    assert.equal(typedefs.header_name, typedefs.headers.keys)
  end)

  it("queue, propagation, pem, jwk and lua_code are records and maps", function()
    assert.equal("record", typedefs.queue.type)
    assert.equal("max_batch_size", next(typedefs.queue.fields[1]))
    assert.equal("record", typedefs.propagation.type)
    assert.equal("record", typedefs.pem.type)
    assert.is_false(typedefs.pem.required)
    assert.equal("record", typedefs.jwk.type)
    assert.equal("map", typedefs.lua_code.type)
  end)
end)

describe("Schema.define call semantics", function()
  it("a call returns its own argument, completed with the typedef's keys", function()
    local arg = { default = 80 }
    local f = typedefs.port(arg)
    assert.equal(arg, f)
    assert.equal("integer", f.type)
    assert.equal(80, f.default)
    assert.equal(typedefs.port.between, f.between) -- shallow: shared
    assert.is_nil(typedefs.port.default)
  end)

  it("the call's keys win", function()
    local f = typedefs.header_name { required = true, default = "x-api-token", type = "number" }
    assert.equal("number", f.type)
    assert.is_true(f.required)
    assert.equal(typedefs.header_name.custom_validator, f.custom_validator)
  end)

  it("a call without argument gives a new table", function()
    local f = typedefs.port()
    assert.not_equal(typedefs.port, f)
    assert.equal("integer", f.type)
  end)

  it("an unknown typedef raises", function()
    local ok, err = pcall(function() return typedefs.no_such_thing end)
    assert.is_false(ok)
    assert.truthy(string.find(err, "schema typedef error: definition no_such_thing does not exist", 1, true), err)
  end)
end)

describe("typedefs validate", function()
  it("host", function()
    passes(typedefs.host, "example.com")
    passes(typedefs.host, "example.com.")
    passes(typedefs.host, "1.2.3.4")
    passes(typedefs.host, "::1")
    passes(typedefs.redis_host, "redis")
    fails(typedefs.host, "example.com:80", "must not have a port")
    fails(typedefs.host, "example.com:99999", "must not have a port")
    fails(typedefs.host, "1.2.3.4:80", "must not have a port")
    fails(typedefs.host, "[::1]:80", "must not have a port")
    fails(typedefs.host, "exa mple", "invalid value: exa mple")
    fails(typedefs.host, "300.1.1.1", "invalid value: 300.1.1.1")
    fails(typedefs.host, "a-.com", "invalid value: a-.com")
    fails(typedefs.host, "a..com", "invalid value: a..com")
    fails(typedefs.host, "", "length must be at least 1")
    fails(typedefs.host, 1, "expected a string")
  end)

  it("host_with_optional_port", function()
    passes(typedefs.host_with_optional_port, "example.com:80")
    passes(typedefs.host_with_optional_port, "[::1]:80")
    fails(typedefs.host_with_optional_port, "example.com:99999", "invalid port number")
    fails(typedefs.host_with_optional_port, "exa mple", "invalid hostname: exa mple")
    fails(typedefs.host_with_optional_port, "1.2.3", "invalid ipv4 address: 1.2.3")
    fails(typedefs.host_with_optional_port, "1:2:x", "invalid ipv6 address: 1:2:x")
  end)

  it("wildcard_host and sni", function()
    passes(typedefs.wildcard_host, "*.example.com")
    passes(typedefs.wildcard_host, "example.*")
    fails(typedefs.wildcard_host, "a.*.com", "wildcard must be leftmost or rightmost character")
    fails(typedefs.wildcard_host, "*.example.*", "only one wildcard must be specified")
    fails(typedefs.wildcard_host, "*.example.com:80", "must not have a port")
    fails(typedefs.wildcard_host, "*.exa mple", "invalid value: wildcard.exa mple")
    fails(typedefs.wildcard_host, "1.2.3.4", "must not be an IP")
    passes(typedefs.sni, "example.com")
    fails(typedefs.sni, "1.2.3.4", "must not be an IP")
    fails(typedefs.sni, "example.com:443", "must not have a port")
    fails(typedefs.redis_server_name, "::1", "must not be an IP")
  end)

  it("ip, ip_or_cidr, cidr_v4", function()
    passes(typedefs.ip, "1.2.3.4")
    passes(typedefs.ip, "::ffff:1.2.3.4")
    fails(typedefs.ip, "1.2.3.256", "not an ip address: 1.2.3.256")
    fails(typedefs.ip, "1.2.3.4/8", "not an ip address: 1.2.3.4/8")
    passes(typedefs.ip_or_cidr, "10.0.0.0/8")
    passes(typedefs.ip_or_cidr, "::/0")
    passes(typedefs.ip_or_cidr, "10.0.0.1")
    fails(typedefs.ip_or_cidr, "10.0.0.0/33", "invalid ip or cidr range: '10.0.0.0/33'")
    fails(typedefs.ip_or_cidr, "10.0.0.0/08", "invalid ip or cidr range: '10.0.0.0/08'")
    passes(typedefs.cidr_v4, "10.0.0.0/8")
    passes(typedefs.cidr, "10.0.0.1")
    fails(typedefs.cidr_v4, "::/0", "invalid ipv4 cidr range: '::/0'")
  end)

  it("port, timeout, ttl", function()
    passes(typedefs.port, 0)
    passes(typedefs.port, 65535)
    fails(typedefs.port, 65536, "value should be between 0 and 65535")
    fails(typedefs.port, "80", "expected an integer")
    fails(typedefs.port, 1.5, "expected an integer")
    fails(typedefs.timeout, -1, "value should be between 0 and 2147483646")
    fails(typedefs.ttl, 1e9, "value should be between 0 and 100000000")
    passes(typedefs.ttl, 0.5)
  end)

  it("path", function()
    passes(typedefs.path, "/foo/bar")
    passes(typedefs.path, "/a%20b~!$&'()*+,;=:@")
    fails(typedefs.path, "foo", "should start with: /")
    fails(typedefs.path, "/foo//bar", "must not have empty segments")
    fails(typedefs.path, "/foo bar",
          "invalid path: '/foo bar' (characters outside of the reserved list of RFC 3986 found)")
    fails(typedefs.path, "/foo%zz", "invalid url-encoded value: '%zz'")
    fails(typedefs.path, "/foo%2", "invalid url-encoded value: '%2'")
    fails(typedefs.path, "/%41%", "invalid url-encoded value: '%'")
  end)

  it("url", function()
    passes(typedefs.url, "http://example.com")
    passes(typedefs.url, "https://user:pw@[::1]:8443/p?q#f")
    fails(typedefs.url, "example.com", "missing host in url")
    fails(typedefs.url, "example.com/path", "missing host in url")
    fails(typedefs.url, "//example.com", "missing scheme in url")
    fails(typedefs.url, "http://", "missing host in url")
    fails(typedefs.url, "", "length must be at least 1")
  end)

  it("header_name and cookie_name", function()
    passes(typedefs.header_name, "X-Foo_1")
    fails(typedefs.header_name, "X Foo",
          "bad header name 'X Foo', allowed characters are A-Z, a-z, 0-9, '_', and '-'")
    passes(typedefs.cookie_name, "session.id!")
    fails(typedefs.cookie_name, "a;b",
          "contains one or more invalid characters. ASCII control characters (0-31;127), " ..
          "space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed.")
  end)

  it("name, utf8_name, tag, tags", function()
    passes(typedefs.name, "my-name_1.~")
    fails(typedefs.name, "a b",
          "invalid value 'a b': it must only contain alphanumeric and '., -, _, ~' characters")
    passes(typedefs.utf8_name, "名前-1")
    fails(typedefs.utf8_name, "a b",
          "invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~")
    fails(typedefs.utf8_name, "a\255b", "invalid utf-8 character sequence detected at position 2")
    passes(typedefs.tag, "a tag~")
    passes(typedefs.tag, "étiquette")
    fails(typedefs.tag, "a,b",
          "invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences")
    fails(typedefs.tags, { "ok", "a/b" },
          { [2] = "invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences" })
  end)

  it("methods, protocols, protocols_http", function()
    passes(typedefs.methods, { "GET", "POST" })
    fails(typedefs.methods, { "GET", "get" }, { [2] = "invalid value: get" })
    passes(typedefs.protocols, { "http", "tcp" })
    fails(typedefs.protocols, { "http", "ftp" },
          { [2] = "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp" })
    fails(typedefs.protocols_http, { "tcp" }, { "expected one of: grpc, grpcs, http, https" })
  end)

  it("uuid and no_consumer", function()
    passes(typedefs.uuid, "4e8b4a5e-9d0c-4b37-9e4e-0c3f4f1b2a10")
    fails(typedefs.uuid, "abc", "expected a valid UUID")
    fails(typedefs.no_consumer, { id = "4e8b4a5e-9d0c-4b37-9e4e-0c3f4f1b2a10" }, "value must be null")
  end)

  it("semantic_version", function()
    passes(typedefs.semantic_version, "1.2.3")
    passes(typedefs.semantic_version, "3.4.0-beta1")
    fails(typedefs.semantic_version, "1..2", "must not have empty version segments")
    fails(typedefs.semantic_version, "v1", "invalid version number: must be in format of X.Y.Z")
  end)

  it("hosts", function()
    passes(typedefs.hosts, { "*.example.com", "example.*", "example.com:8000" })
    fails(typedefs.hosts, { "ok.com", "a.*.com" },
          { [2] = "invalid wildcard: must be placed at leftmost or rightmost label" })
    fails(typedefs.hosts, { "*.a.*" }, { "invalid wildcard: must have at most one wildcard" })
    fails(typedefs.hosts, { "a b" }, { "invalid hostname: a b" })
    fails(typedefs.hosts, { "a.com:70000" }, { "invalid port number" })
  end)

  it("router_path(s)", function()
    passes(typedefs.router_paths, { "/", "/a/b", "~/users/(?<id>\\d+)$" })
    fails(typedefs.router_paths, { "a" }, { "should start with: / (fixed path) or ~/ (regex path)" })
    fails(typedefs.router_paths, { "/a//b" }, { "must not have empty segments" })
    fails(typedefs.router_paths, { "/a/../b" }, { "non-normalized path, consider use '/b' instead" })
    fails(typedefs.router_paths, { "/%7euser" }, { "non-normalized path, consider use '/~user' instead" })
    fails(typedefs.router_paths, { "/%zz" }, { "invalid url-encoded value: '%zz'" })
    passes(typedefs.router_path, "/with space") -- RFC 3986 errors are not reported here
    local ok, err = check(typedefs.router_paths, { "~/(a" })
    assert.is_nil(ok)
    assert.truthy(err[1]:find("invalid regex: '/(a' (PCRE returned: ", 1, true), err[1])
  end)

  it("paths (Kong 2.x)", function()
    passes(typedefs.paths, { "/a", "/users/\\d+$" })
    fails(typedefs.paths, { "a" }, { "should start with: /" })
    fails(typedefs.paths, { "/a//b" }, { "must not have empty segments" })
    fails(typedefs.paths, { "/%zz" }, { "invalid url-encoded value: '%zz'" })
    assert.same({ "first", "second", "all" }, typedefs.run_on.one_of)
    assert.equal("first", typedefs.run_on_first.default)
  end)

  it("headers", function()
    passes(typedefs.headers, { ["X-A"] = { "1", "2" } })
    fails(typedefs.headers, { ["bad name"] = { "x" } },
          "bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'")
  end)

  it("sources and destinations", function()
    passes(typedefs.sources, { { ip = "10.0.0.0/8" }, { port = 80 }, { ip = "::1", port = 1 } })
    fails(typedefs.destinations, { { ip = "nope" } }, { { ip = "invalid ip or cidr range: 'nope'" } })
    fails(typedefs.sources, { { port = 70000 } }, { { port = "value should be between 0 and 65535" } })
  end)

  it("lua_code", function()
    passes(typedefs.lua_code, { a = "return 1" })
    local ok, err = check(typedefs.lua_code, { a = "return (" })
    assert.is_nil(ok)
    assert.truthy(err:find("Error parsing function: ", 1, true), err)
    fails(typedefs.lua_code, { a = "" }, "length must be at least 1")
  end)

  it("queue record", function()
    passes(typedefs.queue, { max_batch_size = 10 })
    fails(typedefs.queue, { max_batch_size = 0 }, { max_batch_size = "value should be between 1 and 1000000" })
    fails(typedefs.queue, { concurrency_limit = 2 }, { concurrency_limit = "expected one of: -1, 1" })
  end)

  it("pem and certificate", function()
    local ok, err = check(typedefs.pem, { public_key = "junk" })
    assert.is_nil(ok)
    assert.same("could not load public key", err["@entity"] and err["@entity"][1] or err)
    assert.is_true(check(typedefs.pem, { private_key = "{vault://env/key}" }))
    ok, err = check(typedefs.certificate, "junk")
    assert.is_nil(ok)
    assert.truthy(err:find("invalid certificate: ", 1, true), err)
  end)
end)

describe("typedefs custom validators", function()
  it("are callable from Lua with Kong's results", function()
    assert.is_true(typedefs.host.custom_validator("example.com"))
    assert.same({ nil, "must not have a port" }, { typedefs.host.custom_validator("a.com:80") })
    assert.same({ nil, "not an ip address: x" }, { typedefs.ip.custom_validator("x") })
    assert.equal("X-Ok", typedefs.header_name.custom_validator("X-Ok"))
    assert.same({ nil, "no header name provided" }, { typedefs.header_name.custom_validator("") })
    assert.same({ nil, "invalid url-encoded value: '%zz'", "percent" }, { typedefs.path.custom_validator("/%zz") })
    assert.same({ nil, "invalid path: '/a b' (characters outside of the reserved list of RFC 3986 found)", "rfc3986" },
                { typedefs.path.custom_validator("/a b") })
    assert.same({ nil, "missing scheme in url" }, { typedefs.url.custom_validator("//h") })
    assert.same({ nil, "could not load public key" }, { typedefs.pem.custom_validator({ public_key = "x" }) })
  end)
end)
