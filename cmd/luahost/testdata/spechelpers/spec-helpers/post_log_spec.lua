-- the mock upstream's log endpoints, as log plugins' specs use them: the
-- plugin's log phase POSTs to mock_upstream_url .. "/post_log/<name>",
-- the spec polls /read_log/<name> with wait_until
local helpers = require "spec.helpers"
local cjson = require "cjson"

describe("mock upstream log endpoints [#off]", function()
  local proxy

  lazy_setup(function()
    local bp = helpers.get_db_utils("off", { "routes", "services", "plugins" }, { "post-log" })
    local route = bp.routes:insert({ hosts = { "log.test" } })
    bp.plugins:insert({ name = "post-log", route = { id = route.id },
      config = { http_endpoint = helpers.mock_upstream_url .. "/post_log/mylog" } })
    assert(helpers.start_kong({ database = "off", plugins = "bundled,post-log" }))
    proxy = helpers.proxy_client()
  end)

  lazy_teardown(function()
    if proxy then proxy:close() end
    helpers.stop_kong()
  end)

  before_each(function()
    local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
    assert.res_status(200, c:get("/reset_log/mylog"))
    c:close()
  end)

  it("a log posted from the log phase is read back with its request's headers", function()
    assert.res_status(201, proxy:get("/status/201", { headers = { host = "log.test" } }))

    local entries
    helpers.wait_until(function()
      local c = assert(helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port))
      local res = c:get("/read_log/mylog")
      local body = assert.res_status(200, res)
      c:close()
      local json = cjson.decode(body)
      if json.count and json.count > 0 then
        assert.equal(#json.entries, json.count)
        entries = json.entries
        return true
      end
    end, 10)

    assert.equal(1, #entries)
    assert.equal("GET", entries[1].request.method)
    assert.equal("/status/201", entries[1].request.uri)
    assert.equal(201, entries[1].response.status)
    assert.equal("application/json", entries[1].log_req_headers["content-type"])
    assert.equal("post-log", entries[1].log_req_headers["x-log-sender"])

    local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
    assert.equal("1", assert.res_status(200, c:get("/count_log/mylog")))
    c:close()
  end)

  it("reset_log empties it, and a read of an empty log has no count", function()
    local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
    local json = cjson.decode(assert.res_status(200, c:get("/read_log/mylog")))
    assert.same({}, json.entries)
    assert.is_nil(json.count)
    assert.res_status(500, c:get("/count_log/mylog"))
    c:close()
  end)

  it("names outside [a-z0-9_] are not logs", function()
    local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
    assert.res_status(404, c:get("/read_log/My-Log"))
    c:close()
  end)
end)
