//go:build !race

package host

// Allocation budgets of the request path. Not under -race: the race
// detector makes sync.Pool drop items at random (the proxy's Contexts, the
// runloop's request states), so counts there say nothing; scripts/test.sh
// runs the tests named *Allocs* once more without -race.

import "testing"

// TestRequestPathAllocs: a request through the proxy and the runloop
// allocates once (its request id, as a string for the logs) with no plugin
// and with token-auth on a warm cache (no ngx.ctx table made, the token
// read from an interned string, the forwarded headers built in the
// pooled Context). RequestCtx.Init, the test's own, is the other one.
func TestRequestPathAllocs(t *testing.T) {
	m := newMemNode(t)
	for _, tc := range []struct{ path, token string }{{"/open", ""}, {"/authed", memNodeToken}} {
		do := m.request(t, tc.path, tc.token)
		do()
		if got := fewestAllocs(200, do); got > 2 {
			t.Errorf("%s: %.1f allocations per request, want <= 2", tc.path, got)
		}
	}
}

// fewestAllocs is the fewest of five testing.AllocsPerRun(runs, f): that
// counts every allocation of the process while f runs, so the host's own
// background work (a worker built for the pool's minimum, a timer) can
// land in one measurement; a cost of f's own shows in all five.
func fewestAllocs(runs int, f func()) float64 {
	best := testing.AllocsPerRun(runs, f)
	for i := 1; i < 5 && best > 0; i++ {
		best = min(best, testing.AllocsPerRun(runs, f))
	}
	return best
}
