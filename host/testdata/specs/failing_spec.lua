describe("a failing spec", function()
  it("passes", function()
    assert.equal(1, 1)
  end)

  it("fails an assertion", function()
    local t = { a = 1 }
    assert.same({ a = 2 }, t)
  end)

  it("raises an error", function()
    local x = nil
    return x.field
  end)

  pending("is pending")
end)
