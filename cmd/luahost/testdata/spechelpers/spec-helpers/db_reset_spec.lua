local helpers = require "spec.helpers"

-- Kong's db:reset drops every table (the connector's reset); the next
-- get_db_utils bootstraps the database again.
describe("db:reset [#postgres]", function()
  it("drops the tables; get_db_utils makes them again", function()
    local bp, db = helpers.get_db_utils("postgres", nil, { "add-header" })
    bp.services:insert({ host = "before.test" })
    assert.is_true(db:reset())
    local rows, err = db.connector:query("SELECT to_regclass('services') AS t")
    assert.is_nil(err)
    assert.equal(ngx.null, rows[1].t)
    bp, db = helpers.get_db_utils("postgres", nil, { "add-header" })
    local s = assert(db.services:insert({ host = "after.test" }))
    assert.equal("after.test", db.services:select({ id = s.id }).host)
  end)
end)

describe("db:reset [#off]", function()
  it("is not implemented", function()
    local _, db = helpers.get_db_utils("off", nil, { "add-header" })
    assert.has_error(function() db:reset() end, "reset() not implemented for 'off' strategy")
  end)
end)
