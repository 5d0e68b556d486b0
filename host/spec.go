package host

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luapattern"

	"github.com/luahost/luahost/pdk"
)

// SpecResult is one busted test outcome.
type SpecResult struct {
	File     string
	Name     string // describe and it names joined by spaces, as busted prints them
	Line     int    // line of the it
	Status   string // success, failure, error, pending
	Message  string // failure or error text (with the spec file:line of the assertion)
	Trace    string
	Duration time.Duration // of the test with its hooks
}

// SpecReport is the outcome of one spec file.
type SpecReport struct {
	File     string
	Results  []SpecResult
	Duration time.Duration
}

// Counts returns successes, failures, errors, pending.
func (r *SpecReport) Counts() (ok, failed, errored, pending int) {
	for _, res := range r.Results {
		switch res.Status {
		case "success":
			ok++
		case "failure":
			failed++
		case "error":
			errored++
		case "pending":
			pending++
		}
	}
	return
}

// DefaultSpecTimeout bounds each hook and test of a spec (luahost test
// --timeout): a test that loops for ever is stopped, reported as an error
// naming it, and the rest of the file runs.
const DefaultSpecTimeout = 30 * time.Second

// RunSpecFile runs a busted-style spec file in a fresh worker (every
// enabled plugin loaded, init_worker run), so globals set by one file do
// not leak into the next; each hook and test under DefaultSpecTimeout.
func (h *Host) RunSpecFile(path string) (*SpecReport, error) {
	return h.RunSpecFileTimeout(path, DefaultSpecTimeout)
}

// RunSpecFileTimeout is RunSpecFile with a per-test timeout.
func (h *Host) RunSpecFileTimeout(path string, timeout time.Duration) (*SpecReport, error) {
	return h.RunSpecFileOptions(path, SpecOptions{Timeout: timeout})
}

// SpecOptions select and order the tests of a spec file as busted's
// command line does (luahost test --filter, --tags, --shuffle ...).
type SpecOptions struct {
	Timeout     time.Duration // per hook and test; 0 is DefaultSpecTimeout
	Filter      []string      // Lua patterns: run only tests whose full name matches one
	FilterOut   []string      // Lua patterns: skip tests whose full name matches one
	Tags        []string      // run only tests with one of these #tags in their full name
	ExcludeTags []string      // skip tests with one of these #tags
	Shuffle     bool          // run the children of each block in a random order
	Seed        int64         // the order's seed (busted --seed)
	NoKeepGoing bool          // stop at the first failure or error (busted --no-keep-going)
}

// tagRE finds busted's tags: #word in a describe or it name.
var tagRE = regexp.MustCompile(`#([\w-]+)`)

// SpecTags lists the #tags of a test's full name.
func SpecTags(name string) []string {
	var out []string
	for _, m := range tagRE.FindAllStringSubmatch(name, -1) {
		out = append(out, m[1])
	}
	return out
}

// Selected says whether a test of this full name runs under o.
func (o SpecOptions) Selected(name string) bool {
	tags := SpecTags(name)
	has := func(list []string) bool {
		for _, want := range list {
			for _, t := range tags {
				if t == want {
					return true
				}
			}
		}
		return false
	}
	if len(o.Tags) > 0 && !has(o.Tags) {
		return false
	}
	if has(o.ExcludeTags) {
		return false
	}
	if len(o.Filter) > 0 {
		found := false
		for _, p := range o.Filter {
			if ok, _ := luapattern.Match(name, p); ok {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, p := range o.FilterOut {
		if ok, _ := luapattern.Match(name, p); ok {
			return false
		}
	}
	return true
}

// RunSpecFileOptions is RunSpecFile with busted's selection options.
func (h *Host) RunSpecFileOptions(path string, opts SpecOptions) (*SpecReport, error) {
	start := time.Now()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultSpecTimeout
	}
	chunk := path
	if rel, err := filepath.Rel(mustGetwd(), path); err == nil && !strings.HasPrefix(rel, "..") {
		chunk = rel
	}
	rep := &SpecReport{File: chunk}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, _, errs := h.newWorker(0, false)
	if len(errs) > 0 {
		if w != nil {
			w.Close()
		}
		return nil, &PluginErrors{Errs: errs}
	}
	defer w.Close()
	w.forgetPluginModules()
	pdk.Drain(w.In)
	w.timeout = timeout
	w.In.Phase = "timer"
	L := w.L
	if h.SpecSetup != nil {
		h.SpecSetup(w.In)
	}

	bv, err := w.requireIn("busted")
	if err != nil {
		return nil, fmt.Errorf("loading the busted runner: %w", err)
	}
	busted := bv.(*lua.LTable)
	if err := w.call(L.GetField(busted, "install"), 0, L.G.Global); err != nil {
		return nil, err
	}
	fileErr := func(err error) *SpecReport {
		le := w.errorOf("", "spec", err)
		msg := le.Msg
		if le.File != "" {
			msg = fmt.Sprintf("%s:%d: %s", le.File, le.Line, le.Msg)
		}
		rep.Results = append(rep.Results, SpecResult{File: chunk, Name: chunk, Status: "error", Message: msg, Line: le.Line})
		rep.Duration = time.Since(start)
		return rep
	}
	proto, err := compileChunk(chunk, src)
	if err != nil {
		return fileErr(err), nil
	}
	if err := w.call(L.NewFunctionFromProto(proto), 0); err != nil {
		return fileErr(err), nil
	}
	root, ok := L.GetField(busted, "root").(*lua.LFunction)
	if !ok {
		return nil, fmt.Errorf("the busted runner has no root()")
	}
	if err := w.call(root, 1); err != nil {
		return fileErr(err), nil
	}
	tree, _ := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if tree == nil {
		return nil, fmt.Errorf("busted.root() returned no tree")
	}
	run := &specRun{w: w, chunk: chunk, rep: rep, timeout: timeout, setCurrent: L.GetField(busted, "set_current"),
		enter: L.GetField(busted, "enter"), leave: L.GetField(busted, "leave"), expand: L.GetField(busted, "expand"), opts: opts}
	if opts.Shuffle {
		run.rnd = rand.New(rand.NewSource(opts.Seed))
	}
	run.block(tree, "", nil, nil)
	rep.Duration = time.Since(start)
	return rep, nil
}

// specRun runs the tree of describe blocks and tests that busted.lua built
// while the spec file loaded. Every hook and test is called from here and
// its outcome kept here, in Go: a spec cannot make a failing test pass by
// breaking the runner's Lua variables (gopher-lua#448 once did exactly
// that, through upvalues detached by a caught error).
type specRun struct {
	w          *Worker
	chunk      string
	rep        *SpecReport
	timeout    time.Duration
	setCurrent lua.LValue
	enter      lua.LValue // busted.enter(block): an insulate block's snapshot
	leave      lua.LValue // busted.leave(block): put it back
	expand     lua.LValue // busted.expand(block): run a describe's body
	opts       SpecOptions
	rnd        *rand.Rand // set with --shuffle
	stopped    bool       // --no-keep-going saw a failure
}

// outcome of one call: status "" is success.
type outcome struct {
	status, msg, trace string
}

func (r *specRun) report(status, name string, line int, o outcome) {
	if r.opts.NoKeepGoing && (status == "failure" || status == "error") {
		r.stopped = true
	}
	r.rep.Results = append(r.rep.Results, SpecResult{File: r.chunk, Name: name, Line: line, Status: status,
		Message: o.msg, Trace: o.trace})
}

// call runs one hook or test under the per-test timeout.
func (r *specRun) call(fn lua.LValue, args ...lua.LValue) outcome {
	w := r.w
	L := w.L
	top := L.GetTop()
	saved := w.timeout
	w.timeout = r.timeout
	err := w.callTraced(fn, 0, args...)
	w.timeout = saved
	L.SetTop(top)
	if err == nil {
		return outcome{}
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		return outcome{status: "error", msg: fmt.Sprintf("stopped: it ran longer than its %s timeout (luahost test --timeout)", r.timeout)}
	}
	var ae *lua.ApiError
	if !errors.As(err, &ae) || ae.Object == nil {
		return outcome{status: "error", msg: err.Error()}
	}
	o := outcome{status: "error", trace: ae.StackTrace}
	if t, ok := ae.Object.(*lua.LTable); ok && t.RawGetString("busted_pending") == lua.LTrue {
		return outcome{status: "pending", msg: lua.LVAsString(t.RawGetString("message"))}
	}
	if t, ok := ae.Object.(*lua.LTable); ok && t.RawGetString("luassert") == lua.LTrue {
		o.status = "failure"
		o.msg = lua.LVAsString(t.RawGetString("message"))
		return o
	}
	o.msg = r.text(ae.Object)
	return o
}

// text is tostring(v), protected: a failing __tostring gives Go's text.
func (r *specRun) text(v lua.LValue) string {
	L := r.w.L
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	top := L.GetTop()
	defer L.SetTop(top)
	if err := r.w.call(L.GetGlobal("tostring"), 1, v); err == nil {
		return lua.LVAsString(L.Get(-1))
	}
	return v.String()
}

func nodeName(prefix string, node *lua.LTable) string {
	name := lua.LVAsString(node.RawGetString("name"))
	if prefix == "" {
		return name
	}
	return prefix + " " + name
}

func nodeLine(node *lua.LTable) int {
	n, _ := node.RawGetString("line").(lua.LNumber)
	return int(n)
}

// list is the array part of node[field], as Lua values.
func list(node *lua.LTable, field string) []lua.LValue {
	t, ok := node.RawGetString(field).(*lua.LTable)
	if !ok {
		return nil
	}
	out := make([]lua.LValue, 0, t.Len())
	for i := 1; i <= t.Len(); i++ {
		out = append(out, t.RawGetInt(i))
	}
	return out
}

// block runs a describe block: setup, its tests and inner blocks with the
// enclosing before_each/after_each hooks around each test, teardown.
func (r *specRun) block(block *lua.LTable, prefix string, befores, afters []lua.LValue) {
	name := prefix
	if block.RawGetString("kind") != lua.LString("file") {
		name = nodeName(prefix, block)
	}
	// busted runs a describe's body when it reaches the block: after
	// the blocks and tests before it (and the hooks they ran)
	if o := r.expandBody(block); o.status != "" {
		r.report("error", name, nodeLine(block), o)
		return
	}
	if le := block.RawGetString("load_error"); le != lua.LNil {
		o := outcome{status: "error", msg: r.text(le)}
		if t, ok := le.(*lua.LTable); ok && t.RawGetString("luassert") == lua.LTrue {
			o.msg = lua.LVAsString(t.RawGetString("message"))
		}
		r.report("error", name, nodeLine(block), o)
		return
	}
	if !r.anySelected(block, prefix) {
		// busted runs no hook of a block none of whose tests run
		return
	}
	if o := r.call(r.enter, block); o.status != "" {
		r.report("error", name, nodeLine(block), o)
		return
	}
	defer r.call(r.leave, block)
	setupFailed := false
	for _, fn := range list(block, "setup") {
		if o := r.call(fn); o.status != "" {
			// busted: a failing setup fails every test of its block
			o.msg = "setup failed: " + o.msg
			r.failAll(block, prefix, o)
			setupFailed = true
			break
		}
	}
	if !setupFailed {
		myBefores := append(append([]lua.LValue{}, befores...), list(block, "before_each")...)
		myAfters := append(list(block, "after_each"), afters...)
		r.eachChild(block, name,
			func(child *lua.LTable) { r.block(child, name, myBefores, myAfters) },
			func(child *lua.LTable) { r.test(child, name, myBefores, myAfters) })
	}
	// teardown runs even after a failed setup, as busted's: what setup
	// started (helpers.start_kong) is stopped
	for _, fn := range list(block, "teardown") {
		if o := r.call(fn); o.status != "" {
			r.report("error", name+" teardown", nodeLine(block), o)
		}
	}
}

// test runs one it: before_each hooks (outer first), the test, its finally
// callbacks, after_each hooks (inner first). The first failure wins; a
// failing hook is an error; after_each runs even when before_each failed.
func (r *specRun) test(t *lua.LTable, prefix string, befores, afters []lua.LValue) {
	start := time.Now()
	r.current(t)
	var res outcome
	for _, fn := range befores {
		if o := r.call(fn); o.status != "" {
			res = o
			res.status = "error"
			break
		}
	}
	if res.status == "" {
		res = r.call(t.RawGetString("fn"))
	}
	// busted: the test's finally callbacks, then after_each inner to outer
	for _, fn := range list(t, "finally") {
		if o := r.call(fn); o.status != "" && res.status == "" {
			res = o
			res.status = "error"
		}
	}
	for _, fn := range afters {
		if o := r.call(fn); o.status != "" && res.status == "" {
			res = o
			res.status = "error"
		}
	}
	r.current(lua.LNil)
	status := res.status
	if status == "" {
		status = "success"
	}
	r.report(status, nodeName(prefix, t), nodeLine(t), res)
	r.rep.Results[len(r.rep.Results)-1].Duration = time.Since(start)
}

// eachChild walks block's children in order: describe blocks to inner,
// tests to test; pending ones are reported as pending (name is the block's
// full name).
func (r *specRun) eachChild(block *lua.LTable, name string, inner, test func(*lua.LTable)) {
	children := list(block, "children")
	if r.rnd != nil {
		r.rnd.Shuffle(len(children), func(i, j int) { children[i], children[j] = children[j], children[i] })
	} else if block.RawGetString("randomize") == lua.LTrue {
		// busted's randomize(): this block only, seeded by --seed (else the clock)
		seed := r.opts.Seed
		if seed == 0 {
			seed = time.Now().UnixNano()
		}
		rand.New(rand.NewSource(seed)).Shuffle(len(children), func(i, j int) { children[i], children[j] = children[j], children[i] })
	}
	for _, c := range children {
		if r.stopped {
			return
		}
		child, ok := c.(*lua.LTable)
		if !ok {
			continue
		}
		switch lua.LVAsString(child.RawGetString("kind")) {
		case "describe":
			inner(child)
		case "pending":
			if full := nodeName(name, child); r.opts.Selected(full) {
				r.report("pending", full, nodeLine(child), outcome{})
			}
		default:
			if r.opts.Selected(nodeName(name, child)) {
				test(child)
			}
		}
	}
}

// anySelected says whether a test or pending under block (whose parent's
// full name is prefix) runs under the options; a block that failed to
// load counts, so that its error is reported.
func (r *specRun) anySelected(block *lua.LTable, prefix string) bool {
	name := prefix
	if block.RawGetString("kind") != lua.LString("file") {
		name = nodeName(prefix, block)
	}
	if block.RawGetString("load_error") != lua.LNil {
		return true
	}
	for _, c := range list(block, "children") {
		child, ok := c.(*lua.LTable)
		if !ok {
			continue
		}
		if lua.LVAsString(child.RawGetString("kind")) == "describe" {
			// a body not run yet may hold selected tests: its block is
			// reached (and its body run) to know
			if child.RawGetString("body") != lua.LNil || r.anySelected(child, name) {
				return true
			}
		} else if r.opts.Selected(nodeName(name, child)) {
			return true
		}
	}
	return false
}

// failAll reports every test under block with o (its setup failed).
func (r *specRun) failAll(block *lua.LTable, prefix string, o outcome) {
	name := nodeName(prefix, block)
	if block.RawGetString("kind") == lua.LString("file") {
		name = prefix
	}
	r.eachChild(block, name,
		func(child *lua.LTable) {
			if eo := r.expandBody(child); eo.status != "" {
				r.report("error", nodeName(name, child), nodeLine(child), eo)
				return
			}
			r.failAll(child, name, o)
		},
		func(child *lua.LTable) { r.report(o.status, nodeName(name, child), nodeLine(child), o) })
}

// expandBody runs block's describe body if it has not run (busted.expand).
func (r *specRun) expandBody(block *lua.LTable) outcome {
	if block.RawGetString("body") == lua.LNil || r.expand == nil || r.expand == lua.LNil {
		return outcome{}
	}
	return r.call(r.expand, block)
}

func (r *specRun) current(t lua.LValue) {
	if r.setCurrent != nil && r.setCurrent != lua.LNil {
		_ = r.w.call(r.setCurrent, 0, t)
	}
}

// FindSpecs lists *_spec.lua files under the given files or directories,
// sorted, as busted does.
func FindSpecs(paths ...string) ([]string, error) {
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
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, "_spec.lua") {
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

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

// SpareState is a state built as a spec file's (every module, the enabled
// plugins loaded) for Go code of the spec helpers that runs Lua outside the
// spec's own state (http_mock's route code, run by its server's
// goroutines). The caller serialises its use and calls release when done.
func (h *Host) SpareState() (*lua.LState, func(), error) {
	w, _, errs := h.newWorker(0, false)
	if len(errs) > 0 {
		if w != nil {
			w.Close()
		}
		return nil, nil, &PluginErrors{Errs: errs}
	}
	pdk.Drain(w.In)
	w.In.Phase = "timer"
	return w.L, w.Close, nil
}

// loadedModules is the set of names in L's package.loaded.
func loadedModules(L *lua.LState) map[string]struct{} {
	set := map[string]struct{}{}
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.ForEach(func(k, _ lua.LValue) {
			if s, ok := k.(lua.LString); ok {
				set[string(s)] = struct{}{}
			}
		})
	}
	return set
}

// addedModules are the names in L's package.loaded that before lacks.
func addedModules(L *lua.LState, before map[string]struct{}) []string {
	var added []string
	for name := range loadedModules(L) {
		if _, ok := before[name]; !ok {
			added = append(added, name)
		}
	}
	return added
}

// forgetPluginModules takes out of package.loaded the modules that loading
// the plugins required from files, so that a spec file requires them
// afresh, as busted starts every file (its insulate) with none of them:
// Kong's unit specs mock the kong and ngx globals, then require a plugin's
// module that keeps them in upvalues (response-transformer's
// header_transformer), or reload a plugin module that registers itself in
// a core one (ai-prompt-guard's filter in kong.llm.plugin.ctx). The loaded
// plugins keep the copies they hold.
func (w *Worker) forgetPluginModules() {
	loaded, ok := w.L.GetField(w.L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if !ok {
		return
	}
	for _, name := range w.pluginModules {
		if w.forgettable(name) {
			loaded.RawSetString(name, lua.LNil)
		}
	}
}

// forgettable: a module read from a file of the Lua path, other than the
// files that define a plugin (handler, schema, daos, api, migrations),
// which Kong's spec helpers load too (get_db_utils) and kong.dao's 0.x
// shim finds in package.loaded. The host's embedded shims (base_plugin
// carries the dao) and Go libraries stay.
func (w *Worker) forgettable(name string) bool {
	if rest, ok := strings.CutPrefix(name, "kong.plugins."); ok {
		if _, file, ok := strings.Cut(rest, "."); ok {
			switch file {
			case "handler", "schema", "daos", "api", "migrations":
				return false
			}
			if strings.HasPrefix(file, "migrations.") {
				return false
			}
		}
	}
	m, _ := w.host.resolver.Find(name)
	return m != nil && m.C == "" && !strings.HasPrefix(m.Path, "embedded:")
}
