package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const selectSpec = "testdata/busted/select_spec.lua"

// tapNames lists the "ok"/"not ok" lines of a TAP output, in order.
func tapNames(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "not ok ") {
			names = append(names, l)
		}
	}
	return names
}

func runTest(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, append([]string{"test", "--plugins", "off"}, args...)...)
}

// The terminal outputs: busted's marks, its closing line, the details of
// pending tests, failures and errors with file @ line, and "N passed, N
// failed" last; exit 1 when a test failed.
func TestTestCommandTerminalOutputs(t *testing.T) {
	for _, c := range []struct{ output, marks, arrow string }{
		{"utfTerminal", "●◼✱●◌", "→"}, {"plainTerminal", "+-*+.", "->"}, {"", "●◼✱●◌", "→"},
	} {
		args := []string{selectSpec}
		if c.output != "" {
			args = append([]string{"-o", c.output}, args...)
		}
		code, out, errs := runTest(t, args...)
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if code != 1 || lines[0] != c.marks {
			t.Fatalf("%s: exit %d, first line %q, want %q\n%s%s", c.output, code, lines[0], c.marks, out, errs)
		}
		if !regexp.MustCompile(`^2 successes / 1 failure / 1 error / 1 pending : [0-9.]+ seconds$`).MatchString(lines[1]) {
			t.Errorf("%s: closing line %q", c.output, lines[1])
		}
		if last := lines[len(lines)-1]; last != "2 passed, 2 failed" {
			t.Errorf("%s: last line %q", c.output, last)
		}
		for _, want := range []string{
			"Pending " + c.arrow + " " + selectSpec + " @ 11\ncache evicts\n",
			"Failure " + c.arrow + " " + selectSpec + " @ 5\ndb #slow fails on purpose\n" + selectSpec + ":5: Expected objects to be equal.",
			"Error " + c.arrow + " " + selectSpec + " @ 9\ncache errors on purpose\n" + selectSpec + ":9: boom",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", c.output, want, out)
			}
		}
		if strings.Contains(out, "stack traceback") {
			t.Errorf("%s: traceback without -v", c.output)
		}
	}
	_, out, _ := runTest(t, "-v", selectSpec)
	if !strings.Contains(out, "stack traceback") {
		t.Errorf("-v: no traceback:\n%s", out)
	}
}

func TestTestCommandTAP(t *testing.T) {
	code, out, errs := runTest(t, "-o", "TAP", selectSpec)
	want := "1..5\nok 1 - db #slow inserts #fast\nnot ok 2 - db #slow fails on purpose\n# " + selectSpec + " @ 5\n" +
		"# Failure message: " + selectSpec + ":5: Expected objects to be equal.\n"
	if code != 1 || !strings.HasPrefix(out, want) || !strings.Contains(out, "not ok 3 - cache errors on purpose\n") ||
		!strings.Contains(out, "# Error message: "+selectSpec+":9: boom\n") ||
		!strings.HasSuffix(out, "ok 4 - cache hits #fast\nok 5 - # SKIP cache evicts\n") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.TrimSpace(errs) != "2 passed, 2 failed" {
		t.Errorf("stderr %q", errs)
	}
}

func TestTestCommandJSON(t *testing.T) {
	code, out, _ := runTest(t, "--output=json", selectSpec)
	var doc struct {
		Successes, Failures, Errors, Pending []struct {
			Name    string
			Message string
			Element struct {
				Trace struct {
					ShortSrc    string `json:"short_src"`
					CurrentLine int    `json:"currentline"`
				}
			}
		}
		Duration *float64
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 1 || len(doc.Successes) != 2 || len(doc.Failures) != 1 || len(doc.Errors) != 1 || len(doc.Pending) != 1 ||
		doc.Duration == nil {
		t.Fatalf("exit %d\n%s", code, out)
	}
	f := doc.Failures[0]
	if f.Name != "db #slow fails on purpose" || f.Element.Trace.CurrentLine != 5 || f.Element.Trace.ShortSrc != selectSpec ||
		!strings.Contains(f.Message, "Expected objects to be equal") {
		t.Errorf("failure %+v", f)
	}
}

func TestTestCommandJUnit(t *testing.T) {
	code, out, _ := runTest(t, "-o", "junit", selectSpec)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suite    struct {
			Skipped int `xml:"skipped,attr"`
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, out)
	}
	if code != 1 || doc.Tests != 5 || doc.Failures != 1 || doc.Errors != 1 || doc.Suite.Skipped != 1 || len(doc.Suite.Cases) != 5 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	c := doc.Suite.Cases
	if c[1].Failure == nil || !strings.Contains(c[1].Failure.Message, ":5: Expected") || c[2].Error == nil ||
		c[4].Skipped == nil || c[0].Failure != nil {
		t.Errorf("cases %+v", c)
	}
}

// --filter, --filter-out, --tags and --exclude-tags select tests by their
// full names; exit 0 when the selected tests pass.
func TestTestCommandSelection(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--filter", "inserts"}, 0, []string{"ok 1 - db #slow inserts #fast"}},
		{[]string{"--filter", "^cache", "--filter-out", "errors"}, 0, []string{"ok 1 - cache hits #fast", "ok 2 - # SKIP cache evicts"}},
		{[]string{"--filter=purpose"}, 1, []string{"not ok 1 - db #slow fails on purpose", "not ok 2 - cache errors on purpose"}},
		{[]string{"-t", "fast"}, 0, []string{"ok 1 - db #slow inserts #fast", "ok 2 - cache hits #fast"}},
		{[]string{"--tags", "slow"}, 1, []string{"ok 1 - db #slow inserts #fast", "not ok 2 - db #slow fails on purpose"}},
		{[]string{"--exclude-tags", "slow,fast"}, 1, []string{"not ok 1 - cache errors on purpose", "ok 2 - # SKIP cache evicts"}},
		{[]string{"-t", "slow", "--exclude-tags", "fast"}, 1, []string{"not ok 1 - db #slow fails on purpose"}},
	} {
		code, out, errs := runTest(t, append(append([]string{"-o", "TAP"}, c.args...), selectSpec)...)
		if got := tapNames(out); code != c.code || strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%v: exit %d, ran\n%s\nwant exit %d and\n%s\n%s", c.args, code, strings.Join(got, "\n"), c.code,
				strings.Join(c.want, "\n"), errs)
		}
	}
}

// --no-keep-going stops at the first failure; --repeat runs the specs again.
func TestTestCommandKeepGoingAndRepeat(t *testing.T) {
	code, out, _ := runTest(t, "-o", "TAP", "--no-keep-going", selectSpec)
	if got := tapNames(out); code != 1 || len(got) != 2 || got[1] != "not ok 2 - db #slow fails on purpose" {
		t.Errorf("--no-keep-going: exit %d, ran %q", code, got)
	}
	code, out, _ = runTest(t, "--repeat", "3", "--filter", "inserts", selectSpec)
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors / 0 pending") {
		t.Errorf("--repeat 3: exit %d\n%s", code, out)
	}
	if code, _, errs := runTest(t, "--repeat", "0", selectSpec); code != 1 || !strings.Contains(errs, "--repeat") {
		t.Errorf("--repeat 0: exit %d, %q", code, errs)
	}
	if code, _, errs := runTest(t, "-o", "xml", selectSpec); code != 1 || !strings.Contains(errs, `unknown output "xml"`) {
		t.Errorf("-o xml: exit %d, %q", code, errs)
	}
}

// --shuffle with a seed gives one order, the same each time, that is not
// the file's for at least one of a few seeds.
func TestTestCommandShuffle(t *testing.T) {
	order := func(seed string) string {
		_, out, errs := runTest(t, "-o", "TAP", "--shuffle", "--seed", seed, selectSpec)
		if !strings.Contains(errs, "--seed "+seed) {
			t.Errorf("the seed is not printed: %q", errs)
		}
		var names []string
		for _, l := range tapNames(out) {
			names = append(names, l[strings.Index(l, " - ")+3:])
		}
		return strings.Join(names, "|")
	}
	_, plain, _ := runTest(t, "-o", "TAP", selectSpec)
	var file []string
	for _, l := range tapNames(plain) {
		file = append(file, l[strings.Index(l, " - ")+3:])
	}
	differs := false
	for _, seed := range []string{"1", "2", "3", "4", "5"} {
		a, b := order(seed), order(seed)
		if a != b {
			t.Errorf("seed %s: %q then %q", seed, a, b)
		}
		if a != strings.Join(file, "|") {
			differs = true
		}
	}
	if !differs {
		t.Error("--shuffle never changed the order")
	}
}

// A .busted file's default task gives options; the command line wins, and
// --run picks another task.
func TestTestCommandBustedFile(t *testing.T) {
	dir := t.TempDir()
	spec, _ := filepath.Abs(selectSpec)
	cfg := `return {
  default = { output = "TAP", tags = { "fast" }, ROOT = { "` + spec + `" } },
  broken = { filter = "purpose", ["keep-going"] = false },
}`
	if err := os.WriteFile(filepath.Join(dir, ".busted"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, errs := runTest(t)
	if got := tapNames(out); code != 0 || len(got) != 2 || got[1] != "ok 2 - cache hits #fast" {
		t.Fatalf("default task: exit %d, %q\n%s%s", code, got, out, errs)
	}
	code, out, _ = runTest(t, "-o", "plainTerminal")
	if code != 0 || !strings.HasPrefix(out, "++\n") {
		t.Errorf("-o over .busted: exit %d\n%s", code, out)
	}
	code, out, _ = runTest(t, "--run", "broken", "-o", "TAP", spec)
	if got := tapNames(out); code != 1 || len(got) != 1 || !strings.HasPrefix(got[0], "not ok 1 - db #slow fails") {
		t.Errorf("--run broken: exit %d, %q", code, got)
	}
	if code, _, errs := runTest(t, "--run", "nope"); code != 1 || !strings.Contains(errs, `no task "nope"`) {
		t.Errorf("--run nope: exit %d %q", code, errs)
	}
}

// Kong's plugin template ships a .busted with output = "gtest", verbose and
// coverage keys: it is read, gtest is busted's GoogleTest-like output, and
// keys luahost does not use (coverage) are ignored.
func TestTestCommandGTestFromPluginTemplateBusted(t *testing.T) {
	dir := t.TempDir()
	spec, _ := filepath.Abs(selectSpec)
	cfg := "return {\n  default = {\n    verbose = true,\n    coverage = false,\n    output = \"gtest\",\n  },\n}\n"
	if err := os.WriteFile(filepath.Join(dir, ".busted"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, errs := runTest(t, spec)
	for _, want := range []string{
		"[==========] Running tests from scanned files.\n",
		"[ RUN      ] " + spec + " @ 4: db #slow inserts #fast\n[       OK ] " + spec + " @ 4: db #slow inserts #fast (",
		"[  FAILED  ] " + spec + " @ 5: db #slow fails on purpose (",
		"[  ERROR   ] " + spec + " @ 9: cache errors on purpose (",
		"[ PENDING  ] " + spec + " @ 11: cache evicts",
		"[==========] 5 tests from 1 test file ran.",
		"[  PASSED  ] 2 tests.\n",
		"stack traceback", // verbose = true
		"\n2 successes / 1 failure / 1 error / 1 pending : ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("gtest output lacks %q", want)
		}
	}
	if code != 1 || !strings.HasSuffix(out, "\n2 passed, 2 failed\n") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

// -p picks spec files by a Lua pattern on their names; --exclude-pattern
// leaves some out.
func TestTestCommandPattern(t *testing.T) {
	code, out, _ := runTest(t, "-o", "TAP", "-p", "_test", "testdata/busted")
	if got := tapNames(out); code != 0 || len(got) != 1 || got[0] != "ok 1 - other runs" {
		t.Errorf("-p _test: exit %d, %q", code, got)
	}
	_, out, _ = runTest(t, "-o", "TAP", "--pattern=_spec", "--pattern=_test", "testdata/busted")
	if got := tapNames(out); len(got) != 6 {
		t.Errorf("two patterns: %q", got)
	}
	code, out, _ = runTest(t, "-o", "TAP", "--pattern", "%.lua$", "--exclude-pattern", "^select", "testdata/busted")
	if got := tapNames(out); code != 0 || len(got) != 1 {
		t.Errorf("--exclude-pattern: exit %d, %q", code, got)
	}
	_, out, _ = runTest(t, "-o", "TAP", "testdata/busted")
	if got := tapNames(out); len(got) != 5 {
		t.Errorf("default pattern: %q", got)
	}
}

// --shuffle-files changes the order of files, not of the tests in them;
// --suppress-pending leaves pending tests out.
func TestTestCommandShuffleFilesAndSuppressPending(t *testing.T) {
	names := func(args ...string) []string {
		_, out, _ := runTest(t, append([]string{"-o", "TAP", "-p", "_spec", "-p", "_test"}, args...)...)
		var n []string
		for _, l := range tapNames(out) {
			n = append(n, l[strings.Index(l, " - ")+3:])
		}
		return n
	}
	plain := strings.Join(names("testdata/busted"), "|")
	moved := false
	for _, seed := range []string{"1", "2", "3", "4", "5", "6"} {
		got := names("--shuffle-files", "--seed", seed, "testdata/busted")
		s := strings.Join(got, "|")
		// the select spec's five tests stay in their order
		if !strings.Contains(s, "db #slow inserts #fast|db #slow fails on purpose|cache errors on purpose|cache hits #fast") {
			t.Errorf("seed %s: tests reordered: %s", seed, s)
		}
		if s != plain {
			moved = true
		}
	}
	if !moved {
		t.Error("--shuffle-files never moved a file")
	}
	code, out, _ := runTest(t, "--suppress-pending", selectSpec)
	if code != 1 || !strings.Contains(out, "2 successes / 1 failure / 1 error / 0 pending") || strings.Contains(out, "Pending") {
		t.Errorf("--suppress-pending: exit %d\n%s", code, out)
	}
}
