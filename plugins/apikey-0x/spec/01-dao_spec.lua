describe("smoke", function()
  it("works", function()
    local singletons = require "kong.singletons"
    local dao = singletons.dao
    assert(kong.db.consumers:truncate())
    local c = assert(kong.db.consumers:insert({ username = "bob" }))
    local row, err = dao.apikeys:insert({ consumer_id = c.id, apikey = "abc" })
    print(require("cjson").encode(row), err)
    local rows, err2 = dao.apikeys:find_by_keys({ apikey = "abc" })
    print(#rows, err2)
    local r2, e2 = dao.apikeys:insert({ consumer_id = c.id, apikey = "abc" })
    print(r2, e2, e2 and e2.unique)
  end)
end)
