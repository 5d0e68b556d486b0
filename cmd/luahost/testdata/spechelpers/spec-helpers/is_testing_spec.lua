-- luahost test runs specs as Kong's bin/busted does: KONG_IS_TESTING=1
-- for the spec and the nodes it starts (kong.log.trace logs at debug)
describe("the test environment", function()
  it("has KONG_IS_TESTING=1", function()
    assert.equal("1", os.getenv("KONG_IS_TESTING"))
  end)
end)
