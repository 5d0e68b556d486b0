local helpers = require "spec.helpers"
local cjson = require "cjson"

-- as Kong's start_kong: after get_db_utils("postgres") a DB-less node
-- starts empty (its /status configuration_hash Kong's empty one); the
-- blueprints' entities are its configuration only when get_db_utils
-- wrote them DB-less
describe("start_kong database = off", function()
  lazy_teardown(function()
    helpers.stop_kong()
  end)

  local function get(path)
    local admin = helpers.admin_client()
    local res = admin:get(path)
    local body = cjson.decode(assert.res_status(200, res))
    admin:close()
    return body
  end

  it("after get_db_utils('postgres'): empty", function()
    local bp = helpers.get_db_utils("postgres", { "services" })
    bp.services:insert({ name = "pg-only" })
    assert(helpers.start_kong({ database = "off" }))
    local st = get("/status")
    assert.equal("00000000000000000000000000000000", st.configuration_hash)
    assert.is_nil(st.database)
    assert.same({}, get("/services").data)
  end)

  it("after get_db_utils('off'): the blueprints' entities", function()
    local bp = helpers.get_db_utils("off", { "services" })
    bp.services:insert({ name = "staged" })
    assert(helpers.start_kong({ database = "off" }))
    assert.equal("staged", get("/services").data[1].name)
    assert.not_equal("00000000000000000000000000000000", get("/status").configuration_hash)
  end)
end)
