local helpers = require "spec.helpers"
local http = require "resty.http"

local function get(scheme, port, path, host)
  local c = http.new()
  local res = assert(c:request_uri(scheme .. "://127.0.0.1:" .. port .. path, {
    headers = { Host = host },
    ssl_verify = false,
  }))
  return res
end

describe("spec.helpers.https_server", function()
  it("answers its locations by host health and counts the answers", function()
    local port = helpers.get_available_port()
    local server = helpers.https_server.new(port, "good.test")
    server:start()

    local res = get("http", port, "/always_200")
    assert.equal(200, res.status)
    assert.equal("ok\n", res.body)

    -- a host new was given starts healthy, any other unhealthy
    assert.equal(200, get("http", port, "/", "good.test").status)
    assert.equal(500, get("http", port, "/anything", "other.test:" .. port).status)
    assert.equal(200, get("http", port, "/status", "good.test").status)

    res = get("http", port, "/unhealthy", "good.test")
    assert.equal("server  is now unhealthy\n", res.body)
    assert.equal(500, get("http", port, "/status", "good.test").status)
    get("http", port, "/healthy", "other.test")
    assert.equal(200, get("http", port, "/", "other.test").status)

    -- records of "/" and "/status", by key
    server:clear_access_log()
    get("http", port, "/x?key=k1", "good.test")
    get("http", port, "/y", "good.test")
    local logs = server:get_access_log()
    assert.equal(1, #logs)
    assert.equal("GET", logs[1].method)
    assert.equal("good.test", logs[1].headers.host)
    assert.is_number(logs[1].time)
    res = get("http", port, "/log?key=k1&do_not_log", "good.test")
    assert.equal(1, #require("cjson").decode(res.body))

    local count = server:shutdown()
    assert.same({ ok = 1, fail = 1, status_ok = 0, status_fail = 0 }, count["other.test"])
    assert.same({ ok = 1, fail = 2, status_ok = 1, status_fail = 1 }, count["good.test"])
    assert.equal(2, count.ok)
    assert.equal(3, count.fail)
    assert.equal(5, count.total)
    assert.equal(2, count.status_total)
    assert.is_nil(ngx.socket.tcp():connect("127.0.0.1", port)) -- stopped
  end)

  it("serves TLS and refuses unknown hosts with check_hostname", function()
    local port = helpers.get_available_port()
    local server = helpers.https_server.new(port, { "a.test", "b.test" }, "https", true)
    server:start()
    assert.equal(200, get("https", port, "/", "b.test").status)
    assert.equal(400, get("https", port, "/", "c.test").status)
    assert.equal("server a.test is now healthy\n", get("https", port, "/healthy", "a.test").body)
    server:shutdown()
  end)

  it("is the upstream of a proxied route", function()
    local port = helpers.get_available_port()
    local server = helpers.https_server.new(port)
    server:start()
    local bp = helpers.get_db_utils("postgres", nil)
    local service = bp.services:insert({ url = "http://localhost:" .. port .. "/always_200" })
    bp.routes:insert({ service = service, paths = { "/up" } })
    assert(helpers.start_kong({ database = "postgres" }))
    local client = helpers.proxy_client()
    local res = client:get("/up")
    assert.equal("ok", assert.res_status(200, res)) -- stripped, as Kong's
    client:close()
    helpers.stop_kong()
    server:shutdown()
  end)
end)
