local helpers = require "spec.helpers"

-- get_db_utils' db (and the blueprints over it) outlive the nodes, as
-- Kong's own DB object does: usable after stop_kong.
describe("db after stop_kong [#postgres]", function()
  it("still reads and writes the database", function()
    local bp, db = helpers.get_db_utils("postgres", nil, { "add-header" })
    local services = db.services
    local before = bp.services:insert({ host = "before.test" })
    assert(helpers.start_kong({ database = "postgres" }))
    assert(helpers.stop_kong())
    local s = assert(bp.services:insert({ host = "after.test" }))
    assert.equal("before.test", assert(services:select({ id = before.id })).host)
    assert.equal("after.test", assert(db.services:select({ id = s.id })).host)
    assert.equal("'it''s'", db.connector:escape_literal("it's"))
    local rows = assert(db.connector:query("SELECT count(*) AS n FROM services"))
    assert.equal(2, rows[1].n)
    assert.is_true(db:truncate("services"))
  end)
end)

describe("db after stop_kong [#off]", function()
  it("still reads the stopped node's store", function()
    local bp, db = helpers.get_db_utils("off", nil, { "add-header" })
    local s = bp.services:insert({ host = "before.test" })
    assert(helpers.start_kong({ database = "off" }))
    assert(helpers.stop_kong())
    assert.equal("before.test", assert(db.services:select({ id = s.id })).host)
  end)
end)
