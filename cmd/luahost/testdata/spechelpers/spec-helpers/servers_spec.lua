local helpers = require "spec.helpers"
local http_mock = require "spec.helpers.http_mock"
local cjson = require "cjson"

describe("spec.helpers.http_mock", function()
  it("serves its routes' code and logs each request", function()
    local mock, port = http_mock.new(nil, {
      ["/hello"] = {
        access = [[
          ngx.header["X-Mock"] = "yes"
          ngx.say("hello ", ngx.var.uri)
          ngx.exit(201)
        ]],
      },
      ["= /json"] = {
        content = [[
          ngx.req.read_body()
          ngx.print(require("cjson").encode({
            method = ngx.req.get_method(),
            q = ngx.req.get_uri_args().q,
            body = ngx.req.get_body_data(),
          }))
        ]],
      },
    }, { log_opts = { resp = true, resp_body = true } })
    assert.is_number(port)
    assert.equal(port, mock:get_default_port())
    mock:start()
    local client = mock:get_client()

    local res = client:get("/hello/world", { headers = { ["X-Req"] = "1" } })
    assert.equal("hello /hello/world", assert.res_status(201, res)) -- stripped, as Kong's
    assert.equal("yes", res.headers["x-mock"])
    -- a session holds the request and the response
    local session = mock:get_session()
    local req = session.req
    assert.equal("GET", req.method)
    assert.equal("/hello/world", req.uri)
    assert.equal("1", req.headers["X-Req"])
    local resp = session.resp
    assert.equal(201, resp.status)
    assert.equal("hello /hello/world\n", resp.body)

    mock:clean()
    local function post(q)
      res = client:post("/json?q=" .. q, { body = "data", headers = { ["Content-Type"] = "text/plain" } })
      assert.same({ method = "POST", q = q, body = "data" }, cjson.decode(assert.res_status(200, res)))
    end
    post("x")
    mock.eventually:has_request_satisfy(function(r)
      assert.equal("data", r.body)
    end)
    -- each session is seen once, as Kong's (it pops its logs): get_request
    -- answers the next request
    post("y")
    assert.equal("/json?q=y", mock:get_request().uri)
    post("z")
    assert.equal("/json?q=z", mock:get_request().uri)
    -- all_ and has_no_ watch the whole eventually_timeout, as Kong's
    mock.eventually_timeout = 0.05
    post("w")
    mock.eventually:all_request_satisfy(function(r)
      assert.equal("/json?q=w", r.uri)
    end)
    post("v")
    assert.has_error(function()
      mock.eventually:has_no_request_satisfy(function(r) assert.equal("POST", r.method) end)
    end)
    -- only raising fails a check: what the function returns does not count
    post("u")
    mock.eventually:has_request_satisfy(function() return false end)
    post("t")
    assert.has_error(function()
      mock.eventually:has_no_request_satisfy(function() return false end)
    end)
    -- every session stays in mock.logs
    assert.equal(0, #mock:retrieve_mocking_logs())
    assert.equal(7, #mock.logs)

    -- "= /json" is exact; no location: 404
    assert.res_status(404, client:get("/json/more"))
    assert.res_status(404, client:get("/nowhere"))
    mock:wait_until_no_request()
    mock:stop()
  end)

  it("has_no_request passes when no request came, as Kong's", function()
    local mock = http_mock.new(nil, nil, { eventually_timeout = 0.05 })
    mock:start()
    mock.eventually:has_no_request()
    mock.eventually:all_request_satisfy(function() error("never called") end)
    mock:stop()
  end)

  it("answers with the default route, an error as 500", function()
    local mock = http_mock.new(nil, nil)
    mock:start()
    assert.equal("ok", assert.res_status(200, mock:get_client():get("/")))
    mock:stop()
    mock = http_mock.new(nil, [[ error("broken route") ]])
    mock:start()
    assert.res_status(500, mock:get_client():get("/"))
    local s = mock:get_session()
    assert.matches("broken route", s.err)
    mock:stop()
  end)
end)

describe("tcp_server and udp_server", function()
  it("tcp_server counts the lines it echoed; kill_tcp_server stops it", function()
    local port = helpers.get_available_port()
    local thread = helpers.tcp_server(port, { requests = 3 })
    local oks, fails = helpers.kill_tcp_server(port)
    assert.equal(0, oks)
    assert.equal(0, fails)
    local ok, line = thread:join()
    assert.is_true(ok)
    assert.equal("@DIE@", line)
  end)

  it("tcp_server with tls serves its echo over TLS", function()
    local port = helpers.get_available_port()
    local thread = helpers.tcp_server(port, { tls = true, prefix = "echo: " })
    -- an HTTPS client's request line is the line the server reads
    local client = helpers.http_client({ scheme = "https", host = "127.0.0.1", port = port, timeout = 5000 })
    local res = client:send({ method = "GET", path = "/over-tls" })
    assert.is_nil(res)
    local ok, line = thread:join()
    assert.is_true(ok)
    assert.equal("GET /over-tls HTTP/1.1", line)
  end)

  it("talks with a spec's own ngx.socket.tcp", function()
    local port = helpers.get_available_port()
    local thread = helpers.tcp_server(port, { prefix = "echo:" })
    local sock = ngx.socket.tcp()
    sock:settimeout(10000)
    assert(sock:connect("127.0.0.1", port))
    assert.equal(6, sock:send("hello\n"))
    assert.equal("echo:hello", sock:receive("*l"))
    local data, err, partial = sock:receive()
    assert.is_nil(data)
    assert.equal("closed", err)
    assert.equal("", partial)
    local ok, line = thread:join()
    assert.is_true(ok)
    assert.equal("hello", line)
  end)

  it("tcp_server answers timeout when nobody comes", function()
    local thread = helpers.tcp_server(helpers.get_available_port(), { timeout = 0.05 })
    local ok, line = thread:join()
    assert.is_true(ok)
    assert.equal("timeout", line)
  end)

  it("udp_server gives up after its timeout", function()
    local thread = helpers.udp_server(helpers.get_available_port(), 2, 0.05)
    local ok, data, err = thread:join()
    assert.is_true(ok)
    assert.same({}, data)
    assert.equal("timeout", err)
  end)
end)

describe("spec.internal modules", function()
  it("map to spec.helpers' functions", function()
    assert.equal(helpers.get_db_utils, require("spec.internal.db").get_db_utils)
    assert.equal(helpers.each_strategy, require("spec.internal.db").each_strategy)
    assert.equal(helpers.proxy_client, require("spec.internal.client").proxy_client)
    assert.equal(helpers.tcp_server, require("spec.internal.server").tcp_server)
    assert.equal(helpers.start_kong, require("spec.internal.cmd").start_kong)
    assert.equal(helpers.wait_until, require("spec.internal.wait").wait_until)
    assert.equal(helpers.unindent, require("spec.internal.misc").unindent)
    assert.equal(helpers.test_conf, require("spec.internal.conf"))
    assert.equal(helpers.mock_upstream_port, require("spec.internal.constants").MOCK_UPSTREAM_PORT)
    assert.is_table(require("spec.internal.asserts"))
  end)
end)
