-- The runner's command line (cmd/luahost TestTestCommand*): names with
-- #tags, one test of each outcome.
describe("db #slow", function()
  it("inserts #fast", function() assert.equal(1, 1) end)
  it("fails on purpose", function() assert.equal(1, 2) end)
end)

describe("cache", function()
  it("errors on purpose", function() error("boom") end)
  it("hits #fast", function() assert.is_true(true) end)
  pending("evicts")
end)
