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

// busted's hook order (setup, before_each outer to inner, the test, its
// finally, after_each inner to outer, teardown), a failing lazy_setup
// failing its block's tests, errors of describe bodies with file:line,
// insulate undoing globals and package.loaded, expose keeping them.
func TestSpecRunnerHooks(t *testing.T) {
	h := newTestHost(t, testConf(t))
	rep, err := h.RunSpecFile("testdata/specs/hooks_spec.lua")
	if err != nil {
		t.Fatal(err)
	}
	const file = "testdata/specs/hooks_spec.lua"
	want := []struct {
		name, status, msg string
		line              int
	}{
		{"order a", "success", "", 11},
		{"order inner b", "success", "", 19},
		{"a failing before_each is an error", "error", file + ":24: before broke", 26},
		{"check saw busted's order", "success", "", 30},
		{"a failing lazy_setup t1", "error", "setup failed: " + file + ":37: setup broke", 39},
		{"a failing lazy_setup nested t2", "error", "setup failed: " + file + ":37: setup broke", 41},
		{"a failing describe body", "error", file + ":48: attempt to index", 45},
		{"a describe body raising a table", "error", file + ":51: error in describe body: table", 51},
		{"insulated sees its body's globals", "success", "", 58},
		{"after insulate and expose sees none of the insulated globals, the exposed ones", "success", "", 70},
		{"a failing teardown passes", "success", "", 80},
		{"a failing teardown teardown", "error", file + ":79: teardown broke", 78},
		{"pending inside a test stops it and reports it pending", "pending", "not written yet", 84},
		{"after a failed lazy_setup its lazy_teardown ran", "success", "", 91},
	}
	if len(rep.Results) != len(want) {
		for _, r := range rep.Results {
			t.Logf("%s %s %d %s", r.Name, r.Status, r.Line, r.Message)
		}
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	for i, w := range want {
		r := rep.Results[i]
		if r.Name != w.name || r.Status != w.status || r.Line != w.line || !strings.HasPrefix(r.Message, w.msg) {
			t.Errorf("result %d: %q %s line %d %q\nwant %q %s line %d %q...", i, r.Name, r.Status, r.Line, r.Message,
				w.name, w.status, w.line, w.msg)
		}
	}
}

// randomize() in a describe body shuffles that block's tests (seeded by
// SpecOptions.Seed) and leaves the other blocks in their order.
func TestSpecRunnerRandomize(t *testing.T) {
	h := newTestHost(t, testConf(t))
	moved := false
	for seed := int64(1); seed <= 5; seed++ {
		rep, err := h.RunSpecFileOptions("testdata/specs/randomize_spec.lua", SpecOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rep.Results {
			names = append(names, r.Name)
		}
		got := strings.Join(names, "|")
		if len(names) != 9 || !strings.HasSuffix(got, "in order u1|in order u2|in order u3") {
			t.Fatalf("seed %d: %s", seed, got)
		}
		if !strings.HasPrefix(got, "shuffled t1|shuffled t2|shuffled t3|shuffled t4|shuffled t5|shuffled t6") {
			moved = true
		}
	}
	if !moved {
		t.Error("randomize() never changed the order")
	}
}

// A describe body runs when the runner reaches its block, after the tests
// and blocks before it and their hooks, as busted's (Kong's specs insert
// entities through the Admin API in a nested describe body, once the
// enclosing lazy_setup started the node).
func TestSpecRunnerDescribeBodyRunsWhenReached(t *testing.T) {
	h := newTestHost(t, testConf(t))
	rep, err := h.RunSpecFile("testdata/specs/describe_order_spec.lua")
	if err != nil {
		t.Fatal(err)
	}
	if ok, failed, errored, _ := rep.Counts(); ok != 3 || failed != 0 || errored != 0 {
		for _, r := range rep.Results {
			t.Logf("%s %s %s", r.Name, r.Status, r.Message)
		}
		t.Fatalf("counts %d/%d/%d", ok, failed, errored)
	}
}

// A spec file's state does not keep the modules that loading the enabled
// plugins required: busted starts each file with none of them, and a unit
// spec that mocks kong before requiring a plugin module relies on it.
func TestSpecFileRequiresPluginModulesAfresh(t *testing.T) {
	c := testConf(t, "testdata/specfresh")
	c.Set("lua_package_path", "testdata/specfresh-lib/?.lua", "test")
	h := newTestHost(t, c)
	rep, err := h.RunSpecFile("testdata/specs/fresh_modules_spec.lua")
	if err != nil {
		t.Fatal(err)
	}
	if ok, failed, errored, pending := rep.Counts(); ok != 4 || failed+errored+pending != 0 {
		t.Fatalf("counts %d/%d/%d/%d, results: %+v", ok, failed, errored, pending, rep.Results)
	}
}
