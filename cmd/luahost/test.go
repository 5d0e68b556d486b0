package main

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/luapattern"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/spechelpers"
)

// testOptions are busted's command-line options that `luahost test`
// takes (the others are luahost's common options).
type testOptions struct {
	output  string // utfTerminal, plainTerminal, TAP, json, junit, gtest
	verbose bool
	repeat  int
	run     string // the .busted task (default: "default")
	spec    host.SpecOptions
	seedSet bool
	// shuffleFiles runs the files in a random order (--shuffle, --shuffle-files);
	// spec.Shuffle the tests of each block (--shuffle, --shuffle-tests)
	shuffleFiles    bool
	suppressPending bool // --suppress-pending: pending tests are not reported
	paths           []string
	pattern         []string // file name patterns (busted -p; default "_spec")
	exclude         []string // file name patterns to skip (--exclude-pattern)
	// strategy is --strategy: the one strategy each_strategy and
	// all_strategies give ("" = KONG_DATABASE's, else postgres and off)
	strategy string
	coverage bool // -c/--coverage: luacov.stats.out and a summary
	watch    bool // --watch: run again the spec files an edit touches
}

// bustedValueFlags take a value; bustedBoolFlags do not. Short names are
// busted's.
var (
	bustedValueFlags = map[string]string{"o": "output", "output": "output", "filter": "filter",
		"filter-out": "filter-out", "t": "tags", "tags": "tags", "exclude-tags": "exclude-tags", "seed": "seed",
		"repeat": "repeat", "run": "run", "p": "pattern", "pattern": "pattern", "exclude-pattern": "exclude-pattern",
		"strategy": "strategy"}
	bustedBoolFlags = map[string]string{"v": "verbose", "verbose": "verbose", "shuffle": "shuffle",
		"no-keep-going": "no-keep-going", "keep-going": "keep-going", "no-shuffle": "no-shuffle",
		"shuffle-files": "shuffle-files", "shuffle-tests": "shuffle-tests", "suppress-pending": "suppress-pending",
		// busted's -c is --coverage: for luahost test it wins over luahost's
		// -c (the configuration file stays reachable as --conf)
		"c": "coverage", "coverage": "coverage", "watch": "watch"}
	outputNames = map[string]string{"utfterminal": "utfTerminal", "plainterminal": "plainTerminal", "tap": "TAP",
		"json": "json", "junit": "junit", "gtest": "gTest"}
)

// splitTestArgs takes busted's options out of args, leaving luahost's
// common options and the paths for parseConf.
func splitTestArgs(args []string) (map[string][]string, []string, error) {
	set := map[string][]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if key, ok := bustedValueFlags[name]; ok {
			if !hasValue {
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("option %s needs a value", a)
				}
				i++
				value = args[i]
			}
			set[key] = append(set[key], value)
			continue
		}
		if key, ok := bustedBoolFlags[name]; ok {
			if hasValue {
				return nil, nil, fmt.Errorf("option %s takes no value", name)
			}
			set[key] = append(set[key], "true")
			continue
		}
		rest = append(rest, a)
	}
	return set, rest, nil
}

// readBustedFile reads a .busted file (a Lua chunk returning a table of
// tasks) and returns the named task's options as command-line values.
func readBustedFile(path, task string) (map[string][]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	L := lua.NewState()
	defer L.Close()
	fn, err := L.Load(strings.NewReader(string(src)), path)
	if err != nil {
		return nil, err
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, err
	}
	tasks, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("%s: does not return a table", path)
	}
	t, ok := tasks.RawGetString(task).(*lua.LTable)
	if !ok {
		if task != "default" {
			return nil, fmt.Errorf("%s: no task %q", path, task)
		}
		return nil, nil
	}
	out := map[string][]string{}
	t.ForEach(func(k, v lua.LValue) {
		key := lua.LVAsString(k)
		switch key {
		case "ROOT":
			key = "paths"
		case "o":
			key = "output"
		case "t":
			key = "tags"
		case "v":
			key = "verbose"
		}
		switch v := v.(type) {
		case *lua.LTable:
			v.ForEach(func(_, e lua.LValue) { out[key] = append(out[key], e.String()) })
		case lua.LBool:
			if key == "keep-going" && !bool(v) {
				out["no-keep-going"] = []string{"true"}
			} else if bool(v) {
				out[key] = []string{"true"}
			}
		default:
			out[key] = []string{v.String()}
		}
	})
	return out, nil
}

// parseTestArgs builds the test options: the .busted file's task first,
// then the command line over it.
func parseTestArgs(args []string) (*testOptions, []string, error) {
	cli, rest, err := splitTestArgs(args)
	if err != nil {
		return nil, nil, err
	}
	task := "default"
	if r := cli["run"]; len(r) > 0 {
		task = r[len(r)-1]
	}
	file, err := readBustedFile(".busted", task)
	if err != nil {
		return nil, nil, fmt.Errorf(".busted: %w", err)
	}
	o := &testOptions{output: "utfTerminal", repeat: 1, run: task}
	for _, src := range []map[string][]string{file, cli} {
		for key, vals := range src {
			last := vals[len(vals)-1]
			switch key {
			case "output":
				name, ok := outputNames[strings.ToLower(last)]
				if !ok {
					return nil, nil, fmt.Errorf("unknown output %q (utfTerminal, plainTerminal, TAP, json, junit, gtest)", last)
				}
				o.output = name
			case "filter":
				o.spec.Filter = append(o.spec.Filter, vals...)
			case "filter-out":
				o.spec.FilterOut = append(o.spec.FilterOut, vals...)
			case "tags":
				o.spec.Tags = append(o.spec.Tags, splitList(vals)...)
			case "exclude-tags":
				o.spec.ExcludeTags = append(o.spec.ExcludeTags, splitList(vals)...)
			case "seed":
				n, err := strconv.ParseInt(last, 10, 64)
				if err != nil {
					return nil, nil, fmt.Errorf("--seed %q: not a number", last)
				}
				o.spec.Seed, o.seedSet = n, true
			case "repeat":
				n, err := strconv.Atoi(last)
				if err != nil || n < 1 {
					return nil, nil, fmt.Errorf("--repeat %q: not a positive number", last)
				}
				o.repeat = n
			case "verbose":
				o.verbose = true
			case "shuffle":
				o.spec.Shuffle, o.shuffleFiles = true, true
			case "shuffle-tests":
				o.spec.Shuffle = true
			case "shuffle-files":
				o.shuffleFiles = true
			case "no-shuffle":
				o.spec.Shuffle, o.shuffleFiles = false, false
			case "suppress-pending":
				o.suppressPending = true
			case "no-keep-going":
				o.spec.NoKeepGoing = true
			case "keep-going":
				o.spec.NoKeepGoing = false
			case "paths":
				o.paths = vals
			case "pattern":
				o.pattern = vals
			case "exclude-pattern":
				o.exclude = vals
			case "strategy":
				switch last {
				case "postgres", "off":
					o.strategy = last
				default:
					return nil, nil, fmt.Errorf("--strategy %q: postgres or off", last)
				}
			case "coverage":
				o.coverage = true
			case "watch":
				o.watch = true
			}
		}
	}
	if (o.spec.Shuffle || o.shuffleFiles) && !o.seedSet {
		o.spec.Seed = time.Now().UnixNano()
	}
	return o, rest, nil
}

// splitList is busted's comma-separated tag lists, repeatable.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, strings.TrimPrefix(s, "#"))
			}
		}
	}
	return out
}

// cmdTest runs busted-style spec files and reports them in busted's
// output format. Exit 0 when every test passed, 1 otherwise (--watch: runs
// until interrupted, exit as the last round's).
func cmdTest(c *conf.Config, o *testOptions, paths []string, timeout time.Duration, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		paths = o.paths
	}
	if len(paths) == 0 {
		paths = []string{"spec"}
	}
	files, err := findSpecFiles(paths, o.pattern, o.exclude)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "Error: no *_spec.lua file under", strings.Join(paths, " "))
		return 1
	}
	testRepoDefaults(c)
	// Kong's bin/busted exports KONG_IS_TESTING=1 for the specs and the
	// nodes they start (kong.log.trace logs at debug); a value the user
	// set is kept
	if _, ok := os.LookupEnv("KONG_IS_TESTING"); !ok {
		os.Setenv("KONG_IS_TESTING", "1")
	}
	t := &testRun{c: c, o: o, timeout: timeout, stdout: stdout, stderr: stderr, deps: map[string]map[string]bool{}}
	if o.coverage {
		t.cov = newTestCoverage(c)
		luavm.SetCoverage(t.cov)
		defer luavm.SetCoverage(nil)
	}
	t.nodes = newSpecNodes(c)
	t.nodes.forced = o.strategy
	defer t.nodes.Close()
	if o.spec.Shuffle || o.shuffleFiles {
		fmt.Fprintf(stderr, "shuffled with --seed %d\n", o.spec.Seed)
	}
	code := t.round(files)
	if !o.watch {
		return code
	}
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	stop := make(chan struct{})
	go func() {
		<-sigs
		close(stop)
	}()
	return t.watch(paths, tick.C, stop, nil)
}

// testRun is one luahost test invocation: its options, the nodes behind
// spec.helpers (kept for the whole run), and, per spec file, the files it
// loaded (for --watch).
type testRun struct {
	c              *conf.Config
	o              *testOptions
	timeout        time.Duration
	stdout, stderr io.Writer
	nodes          *specNodes
	cov            *luavm.Coverage
	// deps maps a spec file to the absolute paths of the files its run
	// loaded: itself, the modules it required, and every file of the
	// plugins of the nodes it started
	deps map[string]map[string]bool
	last int // exit code of the last round
}

// round runs files once (--repeat times) in a host built for the round,
// so that edits made since the last round are seen.
func (t *testRun) round(files []string) int {
	o := t.o
	if t.cov != nil {
		// this round's hosts compile the covered files anew: what earlier
		// rounds counted goes (before loadHost: its chunks count)
		t.cov.Reset()
	}
	if strings.EqualFold(strings.TrimSpace(t.c.Get("database")), "postgres") {
		if err := ensureTestDatabase(t.c); err != nil {
			fmt.Fprintln(t.stderr, "Error:", err)
			t.last = 1
			return 1
		}
	}
	h, ok := loadHost(t.c, t.stderr)
	if !ok {
		t.last = 1
		return 1
	}
	defer h.Close()
	var required []string
	var cleanup func()
	t.nodes.setHost(h)
	defer t.nodes.setHost(nil)
	h.SpecSetup = func(in *pdk.Instance) {
		cleanup = spechelpers.Install(in, t.nodes)
		recordRequires(in.L, func(name string) { required = append(required, name) })
	}
	spec := o.spec
	spec.Timeout = t.timeout
	if o.shuffleFiles {
		files = append([]string(nil), files...)
		rnd := rand.New(rand.NewSource(spec.Seed))
		rnd.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	}
	out := newTestOutput(o.output, o.verbose, t.stdout, t.stderr)
	start := time.Now()
	var all []host.SpecResult
	stop := false
	for round := 0; round < o.repeat && !stop; round++ {
		for _, f := range files {
			required = required[:0]
			t.nodes.takePluginDirs()
			cleanup = nil
			rep, err := h.RunSpecFileOptions(f, spec)
			if cleanup != nil {
				// what the spec left running (http_mock, tcp_server)
				cleanup()
			}
			if err != nil {
				// the file could not run at all: one error, as busted reports a file that fails to load
				rep = &host.SpecReport{File: f, Results: []host.SpecResult{{File: f, Name: f, Status: "error",
					Message: err.Error()}}}
			}
			t.recordDeps(h, f, required, t.nodes.takePluginDirs())
			for _, r := range rep.Results {
				if r.Status == "pending" && o.suppressPending {
					continue
				}
				out.test(r)
				all = append(all, r)
				if spec.NoKeepGoing && (r.Status == "failure" || r.Status == "error") {
					stop = true
				}
			}
			if stop {
				break
			}
		}
	}
	_, failN, errN, _ := tally(all)
	out.end(all, time.Since(start))
	t.last = 0
	if failN+errN > 0 {
		t.last = 1
	}
	if t.cov != nil {
		if err := writeCoverage(t.cov, CoverageStatsFile, t.stdout); err != nil {
			fmt.Fprintln(t.stderr, "Error: --coverage:", err)
			t.last = 1
		}
	}
	return t.last
}

// findSpecFiles is busted's file discovery: under each directory, the .lua
// files whose name matches one of patterns (Lua patterns, default
// "_spec") and none of excludes; a file named on the command line is
// always run.
func findSpecFiles(paths, patterns, excludes []string) ([]string, error) {
	if len(patterns) == 0 && len(excludes) == 0 {
		return host.FindSpecs(paths...)
	}
	if len(patterns) == 0 {
		patterns = []string{"_spec"}
	}
	matchAny := func(name string, pats []string) bool {
		for _, p := range pats {
			if ok, _ := luapattern.Match(name, p); ok {
				return true
			}
		}
		return false
	}
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".lua") {
				return err
			}
			if name := d.Name(); matchAny(name, patterns) && !matchAny(name, excludes) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// tally counts successes, failures, errors and pending.
func tally(rs []host.SpecResult) (ok, failed, errored, pending int) {
	rep := host.SpecReport{Results: rs}
	return rep.Counts()
}

// count is busted's "1 success", "2 successes".
func count(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
