-- Found by `luahost test -p _test` (cmd/luahost TestTestCommandPattern).
describe("other", function()
  it("runs", function() assert.is_true(true) end)
end)
