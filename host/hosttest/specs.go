// Package hosttest runs busted-style Lua specs under go test.
package hosttest

import (
	"testing"

	"github.com/luahost/luahost/host"
)

// RunSpecsT runs spec files under go test: one subtest per file and one
// per it, a failure reported with its spec file:line.
func RunSpecsT(t *testing.T, h *host.Host, files []string) {
	t.Helper()
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			rep, err := h.RunSpecFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) == 0 {
				t.Fatalf("%s: no test ran", f)
			}
			for _, r := range rep.Results {
				r := r
				t.Run(r.Name, func(t *testing.T) {
					switch r.Status {
					case "success":
					case "pending":
						t.Skip("pending")
					default:
						t.Errorf("%s:%d: %s: %s\n%s", r.File, r.Line, r.Status, r.Message, r.Trace)
					}
				})
			}
		})
	}
}
