-- token-auth's custom entity through kong.db, as a Kong plugin author
-- would test it (runs on the embedded store: `luahost test`).
describe("token-auth: token_credentials DAO", function()
  local db = kong.db
  local alice

  before_each(function()
    assert(db.token_credentials:truncate())
    assert(db.consumers:truncate())
    alice = assert(db.consumers:insert({ username = "alice" }))
  end)

  it("generates a unique key and the id", function()
    local cred, err = db.token_credentials:insert({ consumer = { id = alice.id } })
    assert.is_nil(err)
    assert.is_string(cred.key)
    assert.equal(32, #cred.key)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", cred.id)
    assert.same({ id = alice.id }, cred.consumer)
  end)

  it("is found by its key (the endpoint_key) and by cache key", function()
    local cred = assert(db.token_credentials:insert({ consumer = { id = alice.id }, key = "s3cret" }))
    local found = assert(db.token_credentials:select_by_key("s3cret"))
    assert.equal(cred.id, found.id)
    local key = db.token_credentials:cache_key("s3cret")
    assert.matches("^token_credentials:s3cret:::::", key)
    local by_ck = assert(db.token_credentials:select_by_cache_key("s3cret"))
    assert.equal(cred.id, by_ck.id)
  end)

  it("refuses a duplicate key with Kong's unique violation", function()
    assert(db.token_credentials:insert({ consumer = { id = alice.id }, key = "dup" }))
    local cred, err, err_t = db.token_credentials:insert({ consumer = { id = alice.id }, key = "dup" })
    assert.is_nil(cred)
    assert.equal("[" .. kong.db.strategy .. "] UNIQUE violation detected on '{key=\"dup\"}'", err)
    assert.equal(db.errors.codes.UNIQUE_VIOLATION, err_t.code)
    assert.same({ key = "dup" }, err_t.fields)
  end)

  it("refuses a credential of a consumer that does not exist", function()
    local ghost = "00000000-0000-4000-8000-000000000000"
    local cred, err, err_t = db.token_credentials:insert({ consumer = { id = ghost } })
    assert.is_nil(cred)
    assert.equal(db.errors.codes.FOREIGN_KEY_VIOLATION, err_t.code)
    assert.matches("does not reference an existing 'consumers' entity", err, 1, true)
  end)

  it("is deleted with its consumer (on_delete = cascade)", function()
    local cred = assert(db.token_credentials:insert({ consumer = { id = alice.id } }))
    assert(db.consumers:delete({ id = alice.id }))
    assert.is_nil(db.token_credentials:select({ id = cred.id }))
  end)

  it("expires with a ttl", function()
    local cred = assert(db.token_credentials:insert({ consumer = { id = alice.id } }, { ttl = 100 }))
    local found = assert(db.token_credentials:select({ id = cred.id }))
    -- the remaining seconds: at most what was set, and not yet expired
    assert.truthy(found.ttl <= 100 and found.ttl > 0)
  end)

  it("pages the credentials of a consumer", function()
    for i = 1, 5 do
      assert(db.token_credentials:insert({ consumer = { id = alice.id }, key = "k" .. i }))
    end
    local rows, err, err_t, offset = db.token_credentials:page_for_consumer({ id = alice.id }, 3)
    assert.is_nil(err)
    assert.equal(3, #rows)
    assert.is_string(offset)
    local rest = db.token_credentials:page_for_consumer({ id = alice.id }, 3, offset)
    assert.equal(2, #rest)
  end)
end)
