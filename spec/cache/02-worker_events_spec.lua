-- kong.worker_events (KONG-REFERENCE §7.1): register(callback, source,
-- event...), callback(data, event, source, pid), unregister, post,
-- post_local, poll.
describe("kong.worker_events", function()
  if not kong.worker_events then
    pending("kong.worker_events is not installed in this host's workers (pdk.OpenEvents)")
    return
  end
  local we = kong.worker_events

  it("calls the callbacks of the poster before post returns", function()
    local got
    we.register(function(data, event, source, pid)
      got = { data = data, event = event, source = source, pid = pid }
    end, "spec-source", "spec-event")
    assert.equal("done", we.post("spec-source", "spec-event", { n = 1 }))
    assert.same({ n = 1 }, got.data)
    assert.equal("spec-event", got.event)
    assert.equal("spec-source", got.source)
    assert.is_number(got.pid)
  end)

  it("passes post_local data by reference", function()
    local got
    we.register(function(data) got = data end, "spec-local", "e")
    local data = { fn = print }
    assert.equal("done", we.post_local("spec-local", "e", data))
    assert.equal(data, got)
  end)

  it("filters by source and event", function()
    local seen = {}
    we.register(function(_, event) seen[#seen + 1] = "src:" .. event end, "spec-f")
    we.register(function(_, event) seen[#seen + 1] = "ev:" .. event end, "spec-f", "a", "b")
    we.post_local("spec-f", "a")
    we.post_local("spec-f", "c")
    we.post_local("spec-other", "a")
    assert.same({ "src:a", "ev:a", "src:c" }, seen)
  end)

  it("unregisters a callback", function()
    local n = 0
    local cb = function() n = n + 1 end
    we.register(cb, "spec-u", "e")
    we.post_local("spec-u", "e")
    assert.is_true(we.unregister(cb, "spec-u", "e"))
    we.post_local("spec-u", "e")
    assert.equal(1, n)
    assert.is_false(we.unregister(cb, "spec-u", "e"))
  end)

  it("keeps a failing callback from the poster and from the others", function()
    local after = false
    we.register(function() error("broken handler") end, "spec-e", "e")
    we.register(function() after = true end, "spec-e", "e")
    assert.equal("done", we.post("spec-e", "e", 1))
    assert.is_true(after)
  end)

  it("polls", function()
    assert.equal("done", we.poll())
  end)
end)
