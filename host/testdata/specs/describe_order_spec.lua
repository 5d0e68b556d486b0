-- busted runs a describe's body when it reaches the block, after the
-- tests and blocks before it: the body sees what their hooks did.
local log = {}

describe("outer", function()
  log[#log + 1] = "outer body"
  lazy_setup(function() log[#log + 1] = "outer setup" end)

  it("first", function() log[#log + 1] = "first" end)

  describe("inner", function()
    log[#log + 1] = "inner body"
    it("ran after outer's setup and first", function()
      assert.same({ "outer body", "outer setup", "first", "inner body" }, log)
    end)
  end)
end)

describe("second top-level block", function()
  log[#log + 1] = "second body"
  it("ran after the first block", function()
    assert.same("second body", log[#log])
    assert.same("inner body", log[#log - 1])
  end)
end)
