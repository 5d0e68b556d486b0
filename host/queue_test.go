package host

import (
	"context"
	"strings"
	"testing"
	"time"
)

// runInWorker runs src in a worker of h and gives the worker back, so that
// its timers run while the pool is idle.
func runInWorker(t *testing.T, h *Host, src string) {
	t.Helper()
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		return w.DoString("queue_test.lua", src)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitSharedValue polls ngx.shared.kong[key] until it equals want.
func waitSharedValue(t *testing.T, h *Host, key, want string) {
	t.Helper()
	dict := h.Root.SharedDict("kong")
	deadline := time.Now().Add(30 * time.Second)
	var last any
	for time.Now().Before(deadline) {
		last, _ = dict.Get(key)
		if s, _ := last.(string); s == want {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	t.Fatalf("ngx.shared.kong[%q] = %v, want %q", key, last, want)
}

const queuePrelude = `
local Queue = require "kong.tools.queue"
local function conf(name, over)
  local c = { name = name, max_batch_size = 1, max_coalescing_delay = 1, max_entries = 10000,
              max_retry_time = 60, initial_retry_delay = 0.01, max_retry_delay = 60, concurrency_limit = 1 }
  for k, v in pairs(over or {}) do c[k] = v end
  return c
end
local function record(key)
  return function(hconf, entries)
    local d = ngx.shared.kong
    d:set(key, (d:get(key) or "") .. "[" .. table.concat(entries, ",") .. "]" .. (hconf and hconf.tag or ""))
    return true
  end
end
`

// kong.tools.queue: batches of max_batch_size, a partial batch after
// max_coalescing_delay, retries with backoff until success or
// max_retry_time, the oldest entry dropped when max_entries is reached,
// concurrency_limit -1 handling each entry alone; Kong's argument checks.
func TestQueue(t *testing.T) {
	c := testConf(t, "testdata/repo")
	c.Set("worker_min", "1", "test")
	c.Set("worker_max", "1", "test")
	h := newTestHost(t, c)

	// full batches go at once; the rest after the coalescing delay
	runInWorker(t, h, queuePrelude+`
		local qc = conf("batches", { max_batch_size = 3, max_coalescing_delay = 0.2 })
		for i = 1, 7 do assert(Queue.enqueue(qc, record("q:batches"), { tag = "c" }, i)) end
		assert(Queue.exists("batches"))`)
	waitSharedValue(t, h, "q:batches", "[1,2,3]c[4,5,6]c[7]c")
	runInWorker(t, h, queuePrelude+`assert(not Queue.exists("batches"), "a drained queue is removed")`)

	// retries: fails twice, then succeeds; the batch is handed over 3 times
	runInWorker(t, h, queuePrelude+`
		local n = 0
		Queue.enqueue(conf("retry"), function(_, entries)
			n = n + 1
			ngx.shared.kong:set("q:retry", n .. ":" .. table.concat(entries, ","))
			if n < 3 then return false, "down" end
			return true
		end, nil, "x")`)
	waitSharedValue(t, h, "q:retry", "3:x")

	// given up after max_retry_time; the next entry is handled again
	runInWorker(t, h, queuePrelude+`
		local qc = conf("giveup", { max_retry_time = 0.05, initial_retry_delay = 0.01, max_retry_delay = 0.02 })
		Queue.enqueue(qc, function(_, entries)
			local d = ngx.shared.kong
			d:set("q:giveup", (d:get("q:giveup") or "") .. entries[1])
			if entries[1] == "last" then d:set("q:giveup:done", "yes") return true end
			error("boom")
		end, nil, "a")
		Queue.enqueue(qc, function(_, entries)
			local d = ngx.shared.kong
			d:set("q:giveup", (d:get("q:giveup") or "") .. entries[1])
			d:set("q:giveup:done", "yes")
			return true
		end, nil, "last")`)
	waitSharedValue(t, h, "q:giveup:done", "yes")
	if v, _ := h.Root.SharedDict("kong").Get("q:giveup"); !strings.HasPrefix(v.(string), "aa") || !strings.HasSuffix(v.(string), "last") {
		t.Fatalf("q:giveup %q: want retries of a, then last", v)
	}

	// max_entries: the oldest entry makes room
	runInWorker(t, h, queuePrelude+`
		local qc = conf("full", { max_entries = 2, max_batch_size = 10, max_coalescing_delay = 0.1 })
		for i = 1, 3 do assert(Queue.enqueue(qc, record("q:full"), nil, i)) end
		assert(Queue.is_full(qc))
		assert(not Queue.can_enqueue(qc, 4))`)
	waitSharedValue(t, h, "q:full", "[2,3]")

	// max_bytes: a string longer than max_bytes is refused
	runInWorker(t, h, queuePrelude+`
		local qc = conf("bytes", { max_bytes = 4, max_batch_size = 10, max_coalescing_delay = 0.1 })
		local ok, err = Queue.enqueue(qc, record("q:bytes"), nil, "12345")
		assert(ok == nil and err == "string to be queued is longer (5 bytes) than the queue's max_bytes (4 bytes)", err)
		assert(Queue.enqueue(qc, record("q:bytes"), nil, "ab"))
		assert(Queue.enqueue(qc, record("q:bytes"), nil, "cd"))
		assert(Queue.enqueue(qc, record("q:bytes"), nil, "ef")) -- drops "ab"`)
	waitSharedValue(t, h, "q:bytes", "[cd,ef]")

	// concurrency_limit -1: one call per entry, no queue kept
	runInWorker(t, h, queuePrelude+`
		local qc = conf("each", { concurrency_limit = -1, max_batch_size = 10 })
		for i = 1, 3 do assert(Queue.enqueue(qc, record("q:each"), nil, i)) end
		assert(not Queue.exists("each"))`)
	waitSharedValue(t, h, "q:each", "[1][2][3]")

	// arguments
	runInWorker(t, h, queuePrelude+`
		local function msg(f) local ok, err = pcall(f) assert(not ok) return err end
		assert(msg(function() Queue.enqueue(nil) end):find("arg #1 (queue_conf) must be a table", 1, true))
		assert(msg(function() Queue.enqueue(conf("a"), 1) end):find("arg #2 (handler) must be a function", 1, true))
		assert(msg(function() Queue.enqueue(conf("a", { max_entries = "x" }), print) end):find("arg #1 (queue_conf) max_entries must be a number", 1, true))
		local ok, err = Queue.enqueue(conf("a"), print, nil, nil)
		assert(ok == nil and err == "entry must be a non-nil Lua value")`)
}

// Kong's queue traces its life through kong.log.trace (debug under
// KONG_IS_TESTING=1), each message tagged with the plugin instance: a
// spec greps the node's log for "done processing queue".
func TestQueueTraceMessages(t *testing.T) {
	c := testConf(t, "testdata/repo")
	c.Set("worker_min", "1", "test")
	c.Set("worker_max", "1", "test")
	h := newTestHost(t, c)
	runInWorker(t, h, queuePrelude+`
		kong.log.trace = function(msg)
			local d = ngx.shared.kong
			d:set("q:trace", (d:get("q:trace") or "") .. msg .. "\n")
		end
		local qc = conf("traced", { max_batch_size = 2, max_coalescing_delay = 0.01, log_tag = "my-tag" })
		assert(Queue.enqueue(qc, record("q:traced"), nil, 1))
		assert(Queue.enqueue(qc, record("q:traced"), nil, 2))`)
	waitSharedValue(t, h, "q:trace", "[my-tag] queue traced: queue created\n"+
		"[my-tag] queue traced: queue exists\n"+
		"[my-tag] queue traced: processing queue\n"+
		"[my-tag] queue traced: passing 2 entries to handler\n"+
		"[my-tag] queue traced: handler processed 2 entries successfully\n"+
		"[my-tag] queue traced: done processing queue\n")
}
