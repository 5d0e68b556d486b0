-- randomize() shuffles its own block only (host TestSpecRunnerRandomize).
describe("shuffled", function()
  randomize()
  for i = 1, 6 do
    it("t" .. i, function() end)
  end
end)

describe("in order", function()
  for i = 1, 3 do
    it("u" .. i, function() end)
  end
end)
