-- loads nothing of the plugin: an edit of the plugin does not run it again
describe("util", function()
  it("adds", function()
    assert.equal(4, 2 + 2)
  end)
end)
