-- spec.helpers itself: utilities, blueprints' defaults, clients and
-- assertions, on the embedded store (database = off)
local helpers = require "spec.helpers"
local cjson = require "cjson"

describe("spec.helpers utilities", function()
  it("unindent", function()
    assert.equal("a\n  b\nc", helpers.unindent([[
      a
        b
      c
    ]]))
    assert.equal("ab", helpers.unindent("\n  a\n  b\n", true))
  end)

  it("wait_until and pwait_until re-check until true", function()
    local n = 0
    assert.is_true(helpers.wait_until(function() n = n + 1; return n >= 3 end, 60))
    assert.equal(3, n)
    local ok, err = pcall(helpers.wait_until, function() return false end, 0)
    assert.is_false(ok)
    assert.matches("wait_until() timeout", tostring(err), 1, true)
    n = 0
    helpers.pwait_until(function() n = n + 1; assert.equal(2, n) end, 60)
    assert.equal(2, n)
    -- an error ends wait_until at once, as Kong's; pwait_until retries
    n = 0
    ok, err = pcall(helpers.wait_until, function() n = n + 1; error("not yet") end, 60)
    assert.is_false(ok)
    assert.equal(1, n)
    assert.matches("not yet", tostring(err), 1, true)
    -- a sleep is always followed by one more try, as Kong's: with a step
    -- past the timeout, the second try (after the deadline) still runs
    ngx.update_time()
    local due = ngx.now() + 0.5
    n = 0
    assert.is_true(helpers.wait_until(function()
      n = n + 1
      ngx.update_time()
      return ngx.now() >= due
    end, 0.5, 1))
    assert.equal(2, n)
  end)

  it("Kong's other assertions: contains, gt, cn, match_re, partial_match", function()
    assert.contains("b", { "a", "b" })
    assert.equal(2, assert.contains("^b", { "a", "bc" }, true))
    assert.not_contains("z", { "a" })
    assert.gt(1, 2)
    assert.is_false(pcall(assert.gt, 2, 1))
    local ssl = require "spec.fixtures.ssl"
    assert.certificate("Subject: C=US, CN=ssl-example.com, O=x").has.cn("ssl-example.com")
    assert.cn("localhost", "Subject: CN = localhost")
    assert.match_re("request id: 42", [[id: \d+]])
    assert.is_false(pcall(assert.match_re, "request id: x", [[id: \d+]]))
    assert.partial_match({ a = 1, b = { c = 2 } }, { a = 1, b = { c = 2, d = 3 }, e = 4 })
    assert.is_false(pcall(assert.partial_match, { b = { c = 3 } }, { b = { c = 2 } }))
    assert.is_string(ssl.cert)
    -- luassert's near and matches take what converts
    assert.near(5, "5.5", 1)
    assert.matches("^12", 123)
    -- header(name, res): the value, the name in any case
    assert.equal("x.test", assert.has.header("Host", { headers = { host = "x.test" } }))
    assert.has_no.header("via", { headers = { host = "x.test" } })
    assert.is_false(pcall(assert.has.header, "via", { headers = {} }))
  end)

  it("Kong's header assertion: a header of a table's headers, by any case", function()
    local res = { headers = { ["X-Token"] = "abc" } }
    assert.equal("abc", assert.header("x-token", res))
    assert.equal("abc", assert.has.header("X-TOKEN", res))
    assert.has_no.header("x-other", res)
    local ok, err = pcall(assert.header, "x-other", res)
    assert.is_false(ok)
    assert.matches("Expected header:", tostring(err), 1, true)
    assert.is_false(pcall(assert.header, "x-token", {}))
  end)

  it("a chain's words joined by underscores, as luassert splits them", function()
    local res = { status = 200, _body = "ok", headers = { ["x-a"] = "1" } }
    assert.equal("ok", assert.response(res).has_status(200))
    assert.equal("1", assert.response(res).has_header("x-a"))
    assert.response(res).has_no_header("x-b")
    -- luassert's underscored modifier words before the assertion's key
    assert.response(res).has_not.header("x-b")
    assert.response(res).is_not.status(500)
    assert.response(res).does_not.has_no.header("x-a")
    assert.is_false(pcall(assert.response(res).has_no_header, "x-a"))
    assert.is_false(pcall(function() return assert.response(res).has_nothing end))
  end)

  it("deep_sort", function()
    assert.same({ 1, 2, { "a", "b" } }, helpers.deep_sort({ { "b", "a" }, 2, 1 }))
    -- Kong's order: numbers as numbers, then by type name
    assert.same({ 9, 10, "a", { 1 } }, helpers.deep_sort({ { 1 }, "a", 10, 9 }))
  end)

  it("each_strategy and all_strategies iterate like ipairs", function()
    local each, all = {}, {}
    for _, s in helpers.each_strategy() do each[#each + 1] = s end
    for _, s in helpers.all_strategies() do all[#all + 1] = s end
    assert.same({ "postgres" }, each)
    assert.same({ "postgres", "off" }, all)
    -- a list given: those of it on offer, as Kong's
    local function list(iter, t, i)
      local out = {}
      for _, s in iter, t, i do out[#out + 1] = s end
      return out
    end
    assert.same({ "off" }, list(helpers.all_strategies({ "off", "cassandra" })))
    assert.same({ "postgres" }, list(helpers.each_strategy({ "off", "postgres" })))
    -- KONG_DATABASE is both lists, off included
    helpers.setenv("KONG_DATABASE", "off")
    local each_off = list(helpers.each_strategy())
    helpers.setenv("KONG_DATABASE", "")
    assert.same({ "off" }, each_off)
  end)

  it("make_yaml_file writes unindented content", function()
    local name = helpers.make_yaml_file([[
      _format_version: "3.0"
      services: []
    ]])
    local f = assert(io.open(name))
    local s = f:read("*a")
    f:close()
    os.remove(name)
    assert.equal('_format_version: "3.0"\nservices: []\n', s)
  end)

  it("kong_exec runs the command line", function()
    local ok, stderr, stdout = helpers.kong_exec("version")
    assert.is_true(ok, stderr)
    assert.matches("luahost", stdout, 1, true)
    local file = helpers.make_yaml_file([[
      _format_version: "3.0"
      services:
      - name: s1
        url: http://example.test
    ]])
    ok, stderr = helpers.kong_exec("config parse " .. file, { database = "off" })
    assert.is_true(ok, stderr)
    file = helpers.make_yaml_file([[
      _format_version: "3.0"
      services:
      - name: s1
        url: 12
    ]])
    ok, stderr = helpers.kong_exec("config parse '" .. file .. "'")
    assert.is_false(ok)
    assert.is_true(#stderr > 0)
  end)

  it("kong_exec's returns and env_vars (Kong's third and fourth arguments)", function()
    local file = helpers.make_yaml_file([[
      _format_version: "3.0"
      services: []
    ]])
    local ok, code, stdout, stderr = helpers.kong_exec("config parse " .. file, nil, true)
    assert.is_true(ok, stderr)
    assert.equal(0, code)
    assert.matches("parse successful", stdout, 1, true)
    assert.equal("", stderr)
    -- env_vars: plain variables for the command's duration
    ok, code, stdout, stderr = helpers.kong_exec("config parse " .. file, nil, true,
      [[ KONG_PLUGINS="no-such-plugin" LUAHOST_SPEC_UNUSED='a b' ]])
    assert.is_false(ok)
    assert.equal(1, code)
    assert.matches("no-such-plugin", stderr, 1, true)
    assert.is_nil(os.getenv("KONG_PLUGINS"))
    assert.is_nil(os.getenv("LUAHOST_SPEC_UNUSED"))
    -- without returns, a failure gives no stdout (busted's assert)
    local ok2, stderr2, stdout2 = helpers.kong_exec("config parse " .. file, nil, false, "KONG_PLUGINS=no-such-plugin")
    assert.is_false(ok2)
    assert.matches("no-such-plugin", stderr2, 1, true)
    assert.is_nil(stdout2)
  end)

  it("test_conf.loaded_plugins is the set of the run's plugins", function()
    assert.is_true(helpers.test_conf.loaded_plugins["add-header"])
    assert.is_nil(helpers.test_conf.loaded_plugins["bundled"])
  end)

  it("test_conf.database is kong_tests.conf's until get_db_utils sets it; get_db_utils checks its arguments", function()
    assert.equal(os.getenv("KONG_DATABASE") or "postgres", helpers.test_conf.database)
    assert.has_error(function() helpers.get_db_utils("off", "routes") end, "arg #2 must be a list of tables to truncate")
    assert.has_error(function() helpers.get_db_utils("off", nil, "p") end, "arg #3 must be a list of plugins to enable")
    helpers.get_db_utils("off")
    assert.equal("off", helpers.test_conf.database)
  end)

  it("helpers.db is the current node's kong.db, with its daos", function()
    local _, db = helpers.get_db_utils("off")
    assert.equal(db, helpers.db)
    assert.equal("services", helpers.db.daos.services.schema.name)
  end)

  it("mock upstream constants", function()
    assert.is_number(helpers.mock_upstream_port)
    assert.equal("http://127.0.0.1:" .. helpers.mock_upstream_port, helpers.mock_upstream_url)
  end)
end)

describe("spec.helpers with a node [#off]", function()
  local bp, db, route, client, admin

  lazy_setup(function()
    bp, db = helpers.get_db_utils("off", { "routes", "services" }, { "add-header" })
    route = bp.routes:insert({ hosts = { "off.test" } })
    bp.plugins:insert({ name = "add-header", route = { id = route.id } })
    bp.routes:insert({ hosts = { "other.test" }, service = bp.services:insert({ host = "127.0.0.1", port = helpers.mock_upstream_port, path = "/anything/prefixed" }) })
    assert(helpers.start_kong({ database = "off", nginx_conf = "spec/fixtures/custom_nginx.template" }))
  end)

  lazy_teardown(function()
    helpers.stop_kong()
  end)

  before_each(function()
    client = helpers.proxy_client()
    admin = helpers.admin_client()
  end)

  it("bp.routes:insert makes a service pointing at the mock upstream", function()
    local svc = db.services:select({ id = route.service.id })
    assert.equal(helpers.mock_upstream_host, svc.host)
    assert.equal(helpers.mock_upstream_port, svc.port)
    assert.equal("http", svc.protocol)
  end)

  it("proxies to the mock upstream, which echoes the request", function()
    local res = client:get("/status/201", { headers = { host = "off.test", ["X-Mine"] = "1" }, query = { q = "v w" } })
    local body = assert.res_status(201, res)
    local json = cjson.decode(body)
    assert.equal("/status/201", json.vars.uri)
    assert.equal("1", assert.request(res).has.header("x-mine"))
    assert.equal("v w", assert.request(res).has.queryparam("q"))
    assert.is_table(assert.response(res).has.jsonbody())
    assert.equal("application/json", res.headers["Content-Type"])
    -- as lua-resty-http's headers: any case (or _ for -) of a name
    -- replaces or clears the header
    res.headers["Content-Type"] = nil
    res.headers.x_powered_by = "other"
    assert.is_nil(res.headers["content-type"])
    assert.equal("other", res.headers["X-Powered-By"])
    for k in pairs(res.headers) do
      assert.not_equal("content-type", k:lower())
    end
    res.headers["X-New"] = "v"
    assert.equal("v", res.headers["x-new"])
  end)

  it("posts forms and JSON", function()
    local res = client:post("/post", {
      headers = { host = "off.test", ["Content-Type"] = "application/x-www-form-urlencoded" },
      body = { a = "1", b = "x y" },
    })
    assert.response(res).has.status(200)
    assert.equal("x y", assert.request(res).has.formparam("b"))
    res = client:send({ method = "POST", path = "/anything",
      headers = { host = "off.test", ["Content-Type"] = "application/json" }, body = { n = 3 } })
    local json = assert.response(res).has.jsonbody()
    assert.equal(3, json.post_data.params.n)
  end)

  it("a table body is encoded only by its Content-Type, as Kong's client", function()
    -- no Content-Type: sent as lua-resty-http sends a table (its array
    -- part), nothing added
    local res = client:post("/anything", { headers = { host = "off.test" }, body = { n = 3 } })
    local json = cjson.decode(assert.res_status(200, res))
    assert.equal("", json.post_data.text)
    assert.is_nil(json.headers["content-type"])
    res = client:post("/anything", { headers = { host = "off.test" }, body = { "a", "b" } })
    assert.equal("ab", cjson.decode(assert.res_status(200, res)).post_data.text)
    -- forms: raw values, arrays with indexes (or without: no_array_indexes)
    res = client:post("/anything", { headers = { host = "off.test", ["Content-Type"] = "application/x-www-form-urlencoded" },
      body = { a = { "x", "y" }, t = true } })
    assert.equal("a[1]=x&a[2]=y&t=true", cjson.decode(assert.res_status(200, res)).post_data.text)
    res = client:post("/anything", { headers = { host = "off.test", ["Content-Type"] = "application/x-www-form-urlencoded" },
      body = { a = { "x", "y" } }, no_array_indexes = true })
    assert.equal("a[]=x&a[]=y", cjson.decode(assert.res_status(200, res)).post_data.text)
    -- multipart/form-data, with Kong's boundary
    res = client:post("/anything", { headers = { host = "off.test", ["Content-Type"] = "multipart/form-data" },
      body = { f = "v" } })
    json = cjson.decode(assert.res_status(200, res))
    assert.equal("multipart/form-data; boundary=8fd84e9444e3946c", json.headers["content-type"])
    assert.equal("v", json.post_data.params.f)
    -- the client sends lua-resty-http's User-Agent and no Accept-Encoding
    res = client:get("/anything", { headers = { host = "off.test" } })
    json = cjson.decode(assert.res_status(200, res))
    assert.is_nil(json.headers["accept-encoding"])
    assert.equal("lua-resty-http/0.17.2 (Lua) ngx_lua/" .. ngx.config.ngx_lua_version, json.headers["user-agent"])
    -- a query table: Kong's encode_args (arrays indexed, true as a word)
    res = client:get("/anything", { headers = { host = "off.test" }, query = { a = { "x", "y" }, t = true } })
    assert.same({ ["a[1]"] = "x", ["a[2]"] = "y", t = "true" }, cjson.decode(assert.res_status(200, res)).uri_args)
    -- a query string: "?" added unless it has one, as lua-resty-http
    res = client:get("/anything", { headers = { host = "off.test" }, query = "?s=1" })
    assert.equal("/anything?s=1", cjson.decode(assert.res_status(200, res)).vars.request_uri)
  end)

  it("client:request is lua-resty-http's: no encoding by Content-Type, a chunked body as given", function()
    local res = assert(client:request({ method = "POST", path = "/anything",
      headers = { host = "off.test", ["Content-Type"] = "application/json" }, body = { "[", "1]" } }))
    assert.equal("[1]", cjson.decode(assert.res_status(200, res)).post_data.text)
    -- a number body is sent as its string
    res = client:post("/anything", { headers = { host = "off.test" }, body = 42 })
    assert.equal("42", cjson.decode(assert.res_status(200, res)).post_data.text)
    -- what the client sent, seen by the mock upstream itself
    local up = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
    res = assert(up:request({ method = "POST", path = "/anything",
      headers = { ["Transfer-Encoding"] = "chunked" }, body = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" }))
    local json = cjson.decode(assert.res_status(200, res))
    assert.equal("abcde", json.post_data.text)
    assert.equal("chunked", json.headers["transfer-encoding"])
    assert.is_nil(json.headers["content-length"])
  end)

  it("the mock upstream answers as Kong's", function()
    -- an unknown path: the echo, status 404
    local json = cjson.decode(assert.res_status(404, client:get("/nowhere", { headers = { host = "off.test" } })))
    assert.equal(helpers.mock_upstream_host, json.vars.host)
    assert.equal(ngx.null, json.post_data.params)
    assert.equal("unknown", json.post_data.kind)
    assert.equal("no SNI", json.vars.ssl_server_name)
    -- /status adds code; /delay adds delay; a bare query key is true
    json = cjson.decode(assert.res_status(201, client:get("/status/201?flag", { headers = { host = "off.test" } })))
    assert.equal(201, json.code)
    assert.is_true(json.uri_args.flag)
    assert.equal(0, cjson.decode(assert.res_status(200, client:get("/delay/0", { headers = { host = "off.test" } }))).delay)
    -- the URL carries the port the mock upstream listens on
    assert.equal("http://" .. helpers.mock_upstream_host .. ":" .. helpers.mock_upstream_port .. "/request",
      cjson.decode(assert.res_status(200, client:get("/request", { headers = { host = "off.test" } }))).url)
    -- a wrong method: nginx's text
    local res = client:post("/get", { headers = { host = "off.test" } })
    -- res_status gives the body stripped, as Kong's
    assert.equal("Method not allowed for the requested URL", assert.res_status(405, res))
    assert.equal("mock_upstream", res.headers["X-Powered-By"])
  end)

  it("the clients' timeouts are honoured, as Kong's (ms)", function()
    -- straight to the mock upstream, which stops waiting when the client goes
    local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port, 100)
    local res, err = c:send({ path = "/delay/2" })
    assert.is_nil(res)
    assert.equal("timeout", err)
    assert.has_error(function() c:get("/delay/2") end, "timeout")
    c:set_timeout(60000)
    assert.res_status(200, c:get("/delay/0"))
    -- the options form: connect/send/read timeouts, as Kong's http_client_opts
    c = helpers.http_client({ host = helpers.mock_upstream_host, port = helpers.mock_upstream_port,
      connect_timeout = 100, send_timeout = 100, read_timeout = 100, timeout = 60000 })
    assert.has_error(function() c:get("/delay/2") end, "timeout")
    -- proxy_client's forced_port and forced_ip
    c = helpers.proxy_client(nil, helpers.mock_upstream_port, helpers.mock_upstream_host)
    assert.equal("/request", cjson.decode(assert.res_status(200, c:get("/request"))).vars.uri)
  end)

  it("a service's path prefixes the upstream path", function()
    local res = client:get("/x", { headers = { host = "other.test" } })
    local json = cjson.decode(assert.res_status(200, res))
    assert.equal("/anything/prefixed/x", json.vars.uri)
  end)

  it("admin_client reaches the Admin API", function()
    local res = admin:get("/routes")
    local json = cjson.decode(assert.res_status(200, res))
    assert.equal(2, #json.data)
  end)

  it("an entity inserted after start_kong is proxied once config is updated", function()
    bp.routes:insert({ hosts = { "late.test" } })
    helpers.wait_for_all_config_update()
    local res = client:get("/request", { headers = { host = "late.test" } })
    assert.res_status(200, res)
  end)

  it("the error log: clean_logfile and assert.logfile", function()
    helpers.clean_logfile()
    assert.logfile().has.no.line("add-header access for off.test", true, 0)
    assert.res_status(200, client:get("/request", { headers = { host = "off.test" } }))
    assert.logfile().has.line("add-header access for off.test", true)
    assert.logfile().has.no.line("never logged", true, 0)
    local ok = pcall(function() assert.logfile().has.line("never logged", true, 0) end)
    assert.is_false(ok)
    -- not plain: a regex, as Kong's (ngx.re.find), under errlog too
    assert.logfile().has.line([[add-header access for \S+\.test]], false, 0)
    assert.errlog().has.no.line([[add-header access for \d+]], false, 0)
    -- has.no.line keeps watching until its timeout, as Kong's: a line a
    -- timer logs after the response fails it
    assert.res_status(200, client:get("/request", { headers = { host = "off.test", ["X-Late-Log"] = "one" } }))
    local clean = pcall(function() assert.logfile().has.no.line("late line: one", true, 10) end)
    assert.is_false(clean)
    -- the log is the prefix's proxy_error_log, as Kong's specs read it
    local cfg = helpers.test_conf
    assert.equal(cfg.nginx_err_logs, cfg.prefix .. "/" .. cfg.proxy_error_log)
    assert.equal("/", cfg.prefix:sub(1, 1))
    local f = assert(io.open(cfg.prefix .. "/" .. cfg.proxy_error_log))
    assert.matches("add-header access for off.test", f:read("*a"), 1, true)
    f:close()
  end)

  it("assert.request reads the mock upstream's echo as Kong's", function()
    local res = client:post("/anything", { headers = { host = "off.test", ["Content-Type"] = "application/json" },
      body = { k = "v" }, query = { Q = "1" } })
    assert.res_status(200, res)
    -- jsonbody: the request's JSON body
    local json = assert.request(res).has.jsonbody()
    assert.same({ k = "v" }, json.params)
    assert.equal('{"k":"v"}', json.data)
    assert.equal("json", json.kind)
    -- names in any case
    assert.equal("1", assert.request(res).has.queryparam("q"))
    -- formparam wants a form
    assert.has_error(function() assert.request(res).has.formparam("k") end,
      "Could not determine the request to be from either mock_upstream")
    -- a response not from the mock upstream
    local admin_res = admin:get("/routes")
    assert.res_status(200, admin_res)
    assert.has_error(function() assert.request(admin_res).has.header("host") end,
      "Could not determine the response to be from mock_upstream")
  end)

  it("assertions fail with Kong's messages", function()
    local res = client:get("/status/200", { headers = { host = "off.test" } })
    local ok, err = pcall(assert.res_status, 404, res)
    assert.is_false(ok)
    assert.matches("Invalid response status code '200'", tostring(err), 1, true)
    ok, err = pcall(function() return assert.response(res).has.header("x-absent") end)
    assert.is_false(ok)
    ok, err = pcall(function() return assert.request(res).has.header("x-absent") end)
    assert.is_false(ok)
    assert.has_no.errors(function() assert.response(res).has_no.header("x-absent") end)
    -- luassert's underscored forms, as Kong's specs write them too
    assert.is_string(assert.response(res).has_header("Content-Length"))
    assert.has_no.errors(function() assert.response(res).has_no_header("x-absent") end)
    assert.is_false(pcall(function() return assert.response(res).has_header("x-absent") end))
  end)

  it("proxy_ssl_client and admin_ssl_client reach the node's TLS entries", function()
    assert.is_number(helpers.get_proxy_port(true))
    assert.not_equal(helpers.get_proxy_port(), helpers.get_proxy_port(true))
    local res = helpers.proxy_ssl_client():get("/request", { headers = { host = "off.test" } })
    assert.res_status(200, res)
    assert.equal("https", assert.request(res).has.header("x-forwarded-proto"))
    res = helpers.proxy_ssl_client(nil, "sni.test"):get("/request", { headers = { host = "off.test" } })
    assert.res_status(200, res)
    res = helpers.admin_ssl_client():get("/")
    assert.res_status(200, res)
    assert.is_number(helpers.get_admin_port(true))
  end)

  it("restart_kong and stop_kong", function()
    local port = helpers.get_proxy_port()
    local res = helpers.proxy_client():get("/request", { headers = { host = "off.test" } })
    assert.res_status(200, res)
    assert(helpers.stop_kong())
    local _, err = helpers.http_client("127.0.0.1", port):send({ path = "/request", headers = { host = "off.test" } })
    assert.is_string(err)
    -- the shortcuts assert, as Kong's
    assert.has_error(function()
      helpers.http_client("127.0.0.1", port):get("/request", { headers = { host = "off.test" } })
    end)
    assert(helpers.start_kong({ database = "off", declarative_config_string = [[
_format_version: "3.0"
services:
- name: s
  url: ]] .. helpers.mock_upstream_url .. [[

  routes:
  - name: r
    hosts: [ "restarted.test" ]
]] }))
    assert.equal("off", helpers.get_running_conf().database)
    res = helpers.proxy_client():get("/request", { headers = { host = "restarted.test" } })
    assert.res_status(200, res)
  end)
end)
