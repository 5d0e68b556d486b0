package host

import (
	"fmt"
	"testing"
)

// kong.node.get_memory_stats lists one Lua VM per live worker of the
// pool (Root.LiveWorkers), each with the pid ngx.worker.pid() answers.
func TestMemoryStatsListLiveWorkers(t *testing.T) {
	h := examplesHost(t, "worker_min", "3", "worker_max", "3")
	n := len(*h.Pool.live.Load())
	if n != 3 {
		t.Fatalf("%d live workers, want worker_min's 3", n)
	}
	inWorkerT(t, h, func(w *Worker) {
		err := w.DoString("=stats", fmt.Sprintf(`
local s = kong.node.get_memory_stats()
assert(#s.workers_lua_vms == %d, "workers: " .. #s.workers_lua_vms)
for _, v in ipairs(s.workers_lua_vms) do
  assert(v.pid == ngx.worker.pid(), v.pid)
  assert(v.http_allocated_gc > 0, v.http_allocated_gc)
end
assert(s.lua_shared_dicts.kong.capacity > 0)`, n))
		if err != nil {
			t.Fatal(err)
		}
	})
}
