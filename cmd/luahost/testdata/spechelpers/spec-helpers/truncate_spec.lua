local helpers = require "spec.helpers"

for _, strategy in helpers.each_strategy() do
  describe("get_db_utils a second time [#" .. strategy .. "]", function()
    it("starts from an empty store", function()
      local bp, db = helpers.get_db_utils(strategy, nil, { "add-header" })
      local route = bp.routes:insert({ hosts = { "first.test" } })
      assert.is_table(db.routes:select({ id = route.id }))
      bp, db = helpers.get_db_utils(strategy, nil, { "add-header" })
      assert.is_nil(db.routes:select({ id = route.id }))
      assert.is_nil(db.services:select({ id = route.service.id }))
      local again = bp.routes:insert({ hosts = { "first.test" } })
      assert.is_table(db.routes:select({ id = again.id }))
    end)
  end)
end
