package host

import (
	"strings"
	"testing"
)

// The runner reports each it with busted's statuses, and a failure names
// the spec file and the line of the failing assertion.
func TestSpecRunnerReportsFailuresWithLines(t *testing.T) {
	h := newTestHost(t, testConf(t))
	rep, err := h.RunSpecFile("testdata/specs/failing_spec.lua")
	if err != nil {
		t.Fatal(err)
	}
	ok, failed, errored, pending := rep.Counts()
	if ok != 1 || failed != 1 || errored != 1 || pending != 1 {
		t.Fatalf("counts %d/%d/%d/%d, results: %+v", ok, failed, errored, pending, rep.Results)
	}
	for _, r := range rep.Results {
		switch r.Name {
		case "a failing spec fails an assertion":
			if r.Status != "failure" || !strings.Contains(r.Message, "testdata/specs/failing_spec.lua:8: Expected objects to be the same") {
				t.Errorf("bad failure: %+v", r)
			}
		case "a failing spec raises an error":
			if r.Status != "error" || !strings.Contains(r.Message, "failing_spec.lua:13") {
				t.Errorf("bad error: %+v", r)
			}
		}
	}
}

// A spec file that does not parse is one error result naming file and line.
func TestSpecRunnerSyntaxError(t *testing.T) {
	h := newTestHost(t, testConf(t))
	dir := t.TempDir()
	p := dir + "/bad_spec.lua"
	if err := writeFile(p, "describe('x', function()\n  it('y' function() end)\nend)\n"); err != nil {
		t.Fatal(err)
	}
	rep, err := h.RunSpecFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Status != "error" || rep.Results[0].Line != 2 {
		t.Fatalf("want one error at line 2, got %+v", rep.Results)
	}
	// as luac5.1 -p bad_spec.lua says it
	if msg := rep.Results[0].Message; !strings.HasSuffix(msg, "bad_spec.lua:2: ')' expected near 'function'") {
		t.Errorf("message %q, want the Lua 5.1 one", msg)
	}
}
