local helpers = require "spec.helpers"
local cjson = require "cjson"

describe("helpers.dns_mock [#off]", function()
  it("keeps records in Kong's layout, with Kong's defaults", function()
    local m = helpers.dns_mock.new({ mocks_only = true })
    assert.is_true(m:A { name = "a.test", address = "127.0.0.1" })
    m:SRV { name = "srv.test", target = "a.test", port = 8000 }
    m:SRV { name = "srv.test", target = "b.test", port = 8001, weight = 5, priority = 1, ttl = 30 }
    m:AAAA { name = "six.test", address = "::1" }
    m:CNAME { name = "alias.test", cname = "a.test" }
    assert.is_true(m.mocks_only)
    assert.same({ type = 1, name = "a.test", address = "127.0.0.1", ttl = 600, class = 1 }, m[1]["a.test"][1])
    assert.same({ type = 33, name = "srv.test", target = "a.test", port = 8000,
                  weight = 10, priority = 20, ttl = 600, class = 1 }, m[33]["srv.test"][1])
    assert.same({ type = 33, name = "srv.test", target = "b.test", port = 8001,
                  weight = 5, priority = 1, ttl = 30, class = 1 }, m[33]["srv.test"][2])
    assert.same({ type = 28, name = "six.test", address = "::1", ttl = 600, class = 1 }, m[28]["six.test"][1])
    assert.same({ type = 5, name = "alias.test", cname = "a.test", ttl = 600, class = 1 }, m[5]["alias.test"][1])
    local json = cjson.decode(tostring(m))
    assert.is_true(json.mocks_only)
    assert.equal(33, #json.records)
    assert.error_matches(function() helpers.dns_mock:A { name = "x.test", address = "127.0.0.1" } end,
                         "can't operate on the class")
    assert.error_matches(function() m.A({ name = "x.test", address = "127.0.0.1" }) end, "colon notation")
    assert.has_error(function() m:SRV { name = "x.test", target = "a.test" } end, "No port field in SRV record")
  end)
end)

describe("start_kong's fixtures.dns_mock [#off]", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off")
    bp.routes:insert({ hosts = { "mocked.test" },
      service = bp.services:insert({ host = "mocked.dns.test", port = helpers.mock_upstream_port }) })
    -- the SRV record gives the port
    bp.routes:insert({ hosts = { "srv.test" }, service = bp.services:insert({ host = "srv.dns.test", port = 1 }) })
    bp.routes:insert({ hosts = { "unmocked.test" }, service = bp.services:insert({ host = "unmocked.dns.test" }) })
    local up = bp.upstreams:insert({ name = "dnsmockup" })
    bp.targets:insert({ upstream = up, target = "target.dns.test:" .. helpers.mock_upstream_port })
    bp.routes:insert({ hosts = { "upstream.test" }, service = bp.services:insert({ host = "dnsmockup" }) })

    local fixtures = { dns_mock = helpers.dns_mock.new({ mocks_only = true }) }
    fixtures.dns_mock:A { name = "mocked.dns.test", address = helpers.mock_upstream_host }
    fixtures.dns_mock:SRV { name = "srv.dns.test", target = "mocked.dns.test", port = helpers.mock_upstream_port }
    fixtures.dns_mock:A { name = "target.dns.test", address = helpers.mock_upstream_host }
    -- a nameserver that refuses at once: nothing but the mock answers
    -- (without mocks_only a failed query is an empty answer too, Kong's
    -- mock resolver; without the mock it is a 500)
    assert(helpers.start_kong({ database = "off", dns_resolver = "127.0.0.1:1" }, nil, nil, fixtures))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  local function get(host)
    local client = helpers.proxy_client()
    local res = client:get("/request", { headers = { host = host } })
    local body = res:read_body()
    client:close()
    return res.status, body
  end

  it("answers a Service host", function()
    local status, body = get("mocked.test")
    assert.equal(200, status, body)
  end)

  it("gives an SRV record's port", function()
    local status, body = get("srv.test")
    assert.equal(200, status, body)
  end)

  it("answers an upstream's target", function()
    local status, body = get("upstream.test")
    assert.equal(200, status, body)
  end)

  it("with mocks_only, a name not mocked does not resolve", function()
    local status, body = get("unmocked.test")
    assert.equal(503, status, body)
    assert.equal("name resolution failed", cjson.decode(body).message)
  end)
end)

describe("start_kong's fixtures.dns_mock and a plugin's cosockets [#off]", function()
  local tcp_port, udp_port = helpers.get_available_port(), helpers.get_available_port()

  lazy_setup(function()
    local bp = helpers.get_db_utils("off", nil, { "cosocket-peer" })
    local function route(host, config)
      local r = bp.routes:insert({ hosts = { host },
        service = bp.services:insert({ host = helpers.mock_upstream_host, port = helpers.mock_upstream_port }) })
      bp.plugins:insert({ name = "cosocket-peer", route = { id = r.id }, config = config })
    end
    route("tcp.test", { host = "peer.dns.test", port = tcp_port })
    route("udp.test", { host = "peer.dns.test", port = udp_port, udp = true })
    route("unmocked.test", { host = "unmocked.dns.test", port = tcp_port })

    local fixtures = { dns_mock = helpers.dns_mock.new({ mocks_only = true }) }
    fixtures.dns_mock:A { name = "peer.dns.test", address = "127.0.0.1" }
    assert(helpers.start_kong({ database = "off", plugins = "bundled,cosocket-peer",
                                dns_resolver = "127.0.0.1:1" }, nil, nil, fixtures))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  local function get(host)
    local client = helpers.proxy_client()
    local res = client:get("/request", { headers = { host = host } })
    local body = res:read_body()
    client:close()
    return res.status, cjson.decode(body)
  end

  it("ngx.socket.tcp connects to a mocked name", function()
    local thread = helpers.tcp_server(tcp_port, { timeout = 10, prefix = "echo: " })
    local status, body = get("tcp.test")
    assert.equal(200, status, body.error)
    assert.equal("echo: hello from peer.dns.test", body.echoed)
    assert.is_true((thread:join()))
  end)

  it("ngx.socket.udp sends to a mocked name", function()
    local thread = helpers.udp_server(udp_port, 1, 10)
    local status, body = get("udp.test")
    assert.equal(200, status, body.error)
    local ok, packet = thread:join()
    assert.is_true(ok)
    assert.equal("hello from peer.dns.test\n", packet)
  end)

  it("a name the node's client does not resolve fails connect with Kong's message", function()
    local status, body = get("unmocked.test")
    assert.equal(502, status)
    assert.matches("[cosocket] DNS resolution failed: dns client error: 101 empty record received. Tried: [",
                   body.error, nil, true)
  end)
end)

describe("a second start_kong without fixtures [#off]", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off")
    bp.routes:insert({ hosts = { "mocked.test" },
      service = bp.services:insert({ host = "mocked.dns.test", port = helpers.mock_upstream_port }) })
    -- a nameserver that refuses at once: the name is not resolved
    assert(helpers.start_kong({ database = "off", dns_resolver = "127.0.0.1:1" }))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  it("no longer has the mocked records", function()
    local client = helpers.proxy_client()
    local res = client:get("/request", { headers = { host = "mocked.test" } })
    local body = assert.res_status(500, res)
    assert.matches("failed the initial dns/balancer resolve for 'mocked.dns.test'", body, nil, true)
  end)
end)

describe("start_kong's nginx fixtures [#off]", function()
  it("are refused unless empty", function()
    helpers.get_db_utils("off")
    assert(helpers.start_kong({ database = "off" }, nil, nil, { http_mock = {}, stream_mock = {} }))
    local ok, err = helpers.start_kong({ database = "off" }, nil, nil,
      { http_mock = { my_server = "server { listen 10001; }" } })
    assert.is_nil(ok)
    assert.matches("fixtures.http_mock", err, nil, true)
    assert.has_error(function() helpers.start_kong({ database = "off" }, nil, nil, { dns_mock = {} }) end,
                     "expected dns_mock to be of a helpers.dns_mock class")
    helpers.stop_kong()
  end)
end)
