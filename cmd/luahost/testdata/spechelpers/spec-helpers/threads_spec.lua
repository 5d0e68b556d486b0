-- ngx.thread in spec code: requests made from light threads and waited
-- on, as Kong's own specs make concurrent requests
local helpers = require "spec.helpers"

describe("ngx.thread in specs [#off]", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off", { "routes", "services" })
    bp.routes:insert({ hosts = { "threads.test" } })
    assert(helpers.start_kong({ database = "off" }))
  end)

  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("waits on proxy requests made in light threads", function()
    local threads = {}
    for i = 1, 3 do
      threads[i] = ngx.thread.spawn(function()
        local client = helpers.proxy_client()
        local res = assert(client:get("/request", { headers = { host = "threads.test" } }))
        local status = res.status
        client:close()
        return status, i
      end)
    end
    for i = 3, 1, -1 do
      local ok, status, n = ngx.thread.wait(threads[i])
      assert.is_true(ok)
      assert.equal(200, status)
      assert.equal(i, n)
    end
  end)

  it("resumes a yielded thread in wait, and answers a failed one", function()
    local steps = {}
    local t = ngx.thread.spawn(function()
      steps[#steps + 1] = "spawned"
      coroutine.yield()
      steps[#steps + 1] = "resumed"
      return "done"
    end)
    steps[#steps + 1] = "parent"
    assert.same({ true, "done" }, { ngx.thread.wait(t) })
    assert.same({ "spawned", "parent", "resumed" }, steps)

    local failed = ngx.thread.spawn(function() error("boom", 0) end)
    assert.same({ false, "boom" }, { ngx.thread.wait(failed) })
    assert.same({ nil, "already waited or killed" }, { ngx.thread.wait(failed) })
  end)
end)
