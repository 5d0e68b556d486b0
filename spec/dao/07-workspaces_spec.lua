-- The request's workspace (ngx.ctx.workspace) scopes kong.db calls, as in
-- Kong (workspaces.get_workspace_id()).
describe("kong.db and ngx.ctx.workspace", function()
  local db = kong.db
  local other

  before_each(function()
    ngx.ctx.workspace = nil
    assert(db.consumers:truncate())
    local existing = db.workspaces:select_by_name("other")
    other = existing or assert(db.workspaces:insert({ name = "other" }))
  end)

  after_each(function()
    ngx.ctx.workspace = nil
  end)

  it("unique fields are unique per workspace", function()
    assert(db.consumers:insert({ username = "bob" }))
    ngx.ctx.workspace = other.id
    local bob2, err = db.consumers:insert({ username = "bob" })
    assert.is_nil(err)
    assert.equal("bob", bob2.username)
    local _, err2 = db.consumers:insert({ username = "bob" })
    assert.equal("[" .. db.strategy .. "] UNIQUE violation detected on '{username=\"bob\"}'", err2)
  end)

  it("reads see the current workspace only", function()
    local default_bob = assert(db.consumers:insert({ username = "bob" }))
    ngx.ctx.workspace = other.id
    assert.is_nil(db.consumers:select_by_username("bob"))
    assert.is_nil(db.consumers:select({ id = default_bob.id }))
    local rows = assert(db.consumers:page())
    assert.equal(0, #rows)
    ngx.ctx.workspace = nil
    assert.equal(default_bob.id, db.consumers:select_by_username("bob").id)
  end)

  it("the workspace option names a workspace by name or id", function()
    assert(db.consumers:insert({ username = "carol" }, { workspace = "other" }))
    assert.is_nil(db.consumers:select_by_username("carol"))
    assert.equal("carol", db.consumers:select_by_username("carol", { workspace = other.id }).username)
    assert.equal("carol", db.consumers:select_by_username("carol", { workspace = "other" }).username)
  end)

  it("cache keys end with the current workspace", function()
    local ck = db.consumers:cache_key("x")
    assert.is_nil(ck:find(other.id, 1, true))
    ngx.ctx.workspace = other.id
    assert.equal("consumers:x:::::" .. other.id, db.consumers:cache_key("x"))
  end)

  it("show_ws_id returns the entity's workspace", function()
    ngx.ctx.workspace = other.id
    local c = assert(db.consumers:insert({ username = "dave" }))
    assert.is_nil(c.ws_id)
    local again = assert(db.consumers:select({ id = c.id }, { show_ws_id = true }))
    assert.equal(other.id, again.ws_id)
  end)
end)
