local helpers = require "spec.helpers"
local cjson = require "cjson"

-- lua-resty-http's send{ version = 1.0 }: an HTTP/1.0 request line (Kong's
-- hmac-auth spec signs "GET /request HTTP/1.0")
describe("client:send version [#off]", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off")
    bp.routes:insert({ hosts = { "v10.test" } })
    assert(helpers.start_kong({ database = "off" }))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  it("sends HTTP/1.0 when asked, HTTP/1.1 otherwise", function()
    local function request_line(version)
      local client = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
      local res = assert(client:send({ method = "POST", path = "/request?a=1", version = version,
                                       body = "x=1", headers = { ["Content-Type"] = "text/plain" } }))
      local json = cjson.decode(assert.res_status(200, res))
      client:close()
      return json.vars.request .. "|" .. json.post_data.text
    end
    assert.equal("POST /request?a=1 HTTP/1.0|x=1", request_line(1.0))
    assert.equal("POST /request?a=1 HTTP/1.1|x=1", request_line(nil))
  end)

  it("goes through the proxy", function()
    local client = helpers.proxy_client()
    local res = assert(client:send({ method = "GET", path = "/request", version = 1.0,
                                     headers = { host = "v10.test" } }))
    assert.res_status(200, res)
    client:close()
  end)
end)
