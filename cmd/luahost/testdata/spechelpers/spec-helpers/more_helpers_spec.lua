-- execute, Penlight's file/dir/path, wait_for_file(_contents),
-- make_temp_dir, generate_keys, HTTP/2 clients, synchronized clients,
-- workers, reload_kong, kill_all, and what luahost does not support
local helpers = require "spec.helpers"
local cjson = require "cjson"

describe("spec.helpers shell and files", function()
  it("execute: ok, stderr, stdout; with returns ok, code, stdout, stderr", function()
    local ok, stderr, stdout = helpers.execute("echo out; echo err >&2")
    assert.is_true(ok)
    assert.equal("err\n", stderr)
    assert.equal("out\n", stdout)
    ok, stderr, stdout = helpers.execute("echo out; echo bad >&2; exit 3")
    assert.is_false(ok)
    assert.equal("bad\n", stderr)
    assert.is_nil(stdout)
    local code
    ok, code, stdout, stderr = helpers.execute("printf x; exit 7", true)
    assert.is_false(ok)
    assert.equal(7, code)
    assert.equal("x", stdout)
    assert.equal("", stderr)
    assert.same({ true, "", "" }, { require("spec.internal.shell").exec("true") })
  end)

  it("make_temp_dir, file, dir, path, wait_for_file(_contents)", function()
    local dir, cleanup = helpers.make_temp_dir()
    assert.is_true(helpers.path.isdir(dir))
    local sub = helpers.path.join(dir, "a", "b")
    assert.is_true(helpers.dir.makepath(sub))
    local f = helpers.path.join(sub, "f.txt")
    assert.is_false(helpers.path.exists(f))
    assert(helpers.file.write(f, "hello"))
    assert.equal(f, helpers.path.exists(f))
    assert.is_true(helpers.path.isfile(f))
    assert.equal(5, helpers.path.getsize(f))
    assert.equal("hello", helpers.file.read(f))
    assert.is_true(helpers.path.isabs(f))
    assert.equal("f.txt", helpers.path.basename(f))
    assert.same({ f }, helpers.dir.getfiles(sub, "*.txt"))
    helpers.wait_for_file("file", f, 1)
    helpers.wait_for_file("directory", sub, 1)
    assert.equal("hello", helpers.wait_for_file_contents(f, 1))
    local ok, err = pcall(helpers.wait_for_file, "file", f .. ".missing", 0)
    assert.is_false(ok)
    assert.matches("failed to wait for the mode (file)", tostring(err), 1, true)
    ok, err = pcall(helpers.wait_for_file_contents, f .. ".missing", 0)
    assert.is_false(ok)
    assert.matches("does not exist or is not readable", tostring(err), 1, true)
    assert(helpers.file.copy(f, f .. ".2"))
    assert(helpers.file.delete(f))
    assert.is_nil(helpers.file.read(f))
    cleanup()
    assert.is_false(helpers.path.exists(dir))
  end)

  it("generate_keys: JWK and PEM, RSA and EC", function()
    local pub, priv = helpers.generate_keys("JWK")
    pub, priv = cjson.decode(pub), cjson.decode(priv)
    assert.equal("RSA", pub.kty)
    assert.equal("AQAB", pub.e)
    assert.is_nil(pub.d)
    assert.equal(pub.n, priv.n)
    assert.is_string(priv.d)
    pub, priv = helpers.generate_keys("jwk", "ec")
    pub, priv = cjson.decode(pub), cjson.decode(priv)
    assert.same({ "EC", "P-256" }, { pub.kty, pub.crv })
    assert.equal(pub.x, priv.x)
    assert.is_string(priv.d)
    pub, priv = helpers.generate_keys("PEM", "EC")
    assert.matches("^%-%-%-%-%-BEGIN PUBLIC KEY", pub)
    assert.matches("^%-%-%-%-%-BEGIN PRIVATE KEY", priv)
    -- a pair that works: signed with one, verified with the other
    local pkey = require "resty.openssl.pkey"
    local sig = assert(assert(pkey.new(priv)):sign("data", "sha256"))
    assert.is_true(assert(pkey.new(pub)):verify(sig, "data", "sha256"))
    local none, err = helpers.generate_keys("PEM", "DSA")
    assert.is_nil(none)
    assert.equal("unsupported key type", err)
  end)

  it("what luahost cannot do says so", function()
    for _, name in ipairs({ "signal", "signal_workers", "wait_pid" }) do
      local ok, err = pcall(helpers[name], "rate-limiting", true, "any-finish")
      assert.is_false(ok)
      assert.matches(name .. ": not supported by luahost: ", tostring(err), 1, true)
    end
  end)
end)

describe("spec.helpers against a node", function()
  local bp
  lazy_setup(function()
    bp = helpers.get_db_utils("off", { "routes", "services" })
    bp.routes:insert({ hosts = { "h2.test" } })
    assert(helpers.start_kong({ database = "off" }))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  it("proxy_client_h2c and proxy_client_h2 speak HTTP/2 to the proxy", function()
    for _, client in ipairs({ helpers.proxy_client_h2c(), helpers.proxy_client_h2() }) do
      local body, headers = client({
        headers = { [":authority"] = "h2.test", [":path"] = "/request", ["X-Test"] = "1" },
      })
      assert.equal(200, tonumber(headers:get(":status")))
      assert.equal(headers.via, headers:get("VIA"))
      local json = cjson.decode(body)
      -- the proxy's Via to the upstream names the client's HTTP version
      assert.matches("^2 kong/", json.headers.via)
      assert.equal("1", json.headers["x-test"])
      assert.equal("h2.test", json.headers["x-forwarded-host"])
    end
    local body = helpers.http2_client("127.0.0.1", helpers.get_proxy_port(false, true))({
      path = "/post", body = "x=1", headers = { host = "h2.test",
        ["Content-Type"] = "application/x-www-form-urlencoded" },
    })
    assert.equal("1", cjson.decode(body).post_data.params.x)
  end)

  it("get_kong_workers lists the Admin API's worker pids", function()
    local workers = helpers.get_kong_workers()
    assert.is_true(#workers >= 1)
    assert.is_number(workers[1])
  end)

  it("table.clone is callable once spec.helpers is loaded, as with Kong's", function()
    local t = { 1, a = "b" }
    local c = table.clone(t)
    assert.same(t, c)
    assert.is_false(rawequal(t, c))
  end)

  it("make_synchronized_clients: the proxy sees each Admin API write", function()
    local proxy, admin = helpers.make_synchronized_clients()
    local other = helpers.admin_client()
    admin:synchronize_sibling(other)
    local svc = cjson.decode(assert.res_status(201, other:post("/services", {
      headers = { ["Content-Type"] = "application/json" },
      body = { name = "sync-svc", url = helpers.mock_upstream_url } })))
    assert.res_status(201, admin:post("/services/" .. svc.id .. "/routes", {
      headers = { ["Content-Type"] = "application/json" },
      body = { hosts = { "sync.test" } } }))
    assert.res_status(200, proxy:get("/request", { headers = { host = "sync.test" } }))
    -- a sibling proxy client, as Kong's proxy client makes one
    local second = helpers.proxy_client()
    proxy:synchronize_sibling(second)
    assert.res_status(200, second:get("/request", { headers = { host = "sync.test" } }))
  end)

  it("reload_kong restarts the node with start_kong's configuration; kill_all stops it", function()
    local ok = helpers.reload_kong("reload --conf " .. helpers.test_conf_path, { database = "off" })
    assert.is_true(ok)
    assert.res_status(200, helpers.proxy_client():get("/request", { headers = { host = "h2.test" } }))
    helpers.kill_all()
    assert.is_nil(helpers.get_proxy_port())
  end)
end)
