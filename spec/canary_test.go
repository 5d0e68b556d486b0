package spec

import (
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

// TestCanary runs canary/must_fail_canary.lua, whose tests must fail, must
// error or must pass as their describe block says, and requires exactly
// those outcomes: a runner that reports a failing test as passing (or the
// reverse) turns the suite red.
func TestCanary(t *testing.T) {
	hosttest.EachStrategy(t, specConf, func(t *testing.T, h *host.Host) {
		rep, err := h.RunSpecFileTimeout("canary/must_fail_canary.lua", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"canary: must fail":  "failure",
			"canary: must error": "error",
			"canary: must pass":  "success",
		}
		counts := map[string]int{}
		for _, r := range rep.Results {
			counts[r.Status]++
			matched := false
			for prefix, status := range want {
				if strings.HasPrefix(r.Name, prefix) {
					matched = true
					if r.Status != status {
						t.Errorf("%q: %s, want %s (%s)", r.Name, r.Status, status, r.Message)
					}
				}
			}
			if !matched {
				t.Errorf("unexpected result %q: %s", r.Name, r.Status)
			}
		}
		if counts["success"] != 4 || counts["failure"] != 11 || counts["error"] != 4 || len(rep.Results) != 19 {
			t.Errorf("counts %v over %d results, want 4 successes, 11 failures, 4 errors", counts, len(rep.Results))
		}
		for _, r := range rep.Results {
			if strings.Contains(r.Name, "per-test timeout") && !strings.Contains(r.Message, "timeout") {
				t.Errorf("the timed-out test's message does not say so: %q", r.Message)
			}
		}
	})
}
