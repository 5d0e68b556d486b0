-- the mock upstream's logs live as long as the Kong node that serves it
-- (Kong keeps them in the node's shared dict): start_kong after
-- stop_kong begins with none
local helpers = require "spec.helpers"
local cjson = require "cjson"

local function post(name)
  local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
  assert.res_status(200, c:post("/post_log/" .. name, { body = '{"a":1}', headers = { ["Content-Type"] = "application/json" } }))
  c:close()
end

local function count(name)
  local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
  local json = cjson.decode(assert.res_status(200, c:get("/read_log/" .. name)))
  c:close()
  return json.count or 0
end

describe("mock upstream logs across nodes [#off]", function()
  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("are kept while the node runs, gone after a restart", function()
    helpers.get_db_utils("off", { "routes" })
    assert(helpers.start_kong({ database = "off" }))
    post("kept")
    post("kept")
    assert.equal(2, count("kept"))
    helpers.stop_kong()
    assert(helpers.start_kong({ database = "off" }))
    assert.equal(0, count("kept"))
  end)
end)
