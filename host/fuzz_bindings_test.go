package host

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// FuzzBindings calls every function and method the host binds for Lua
// (issue 14: a plugin cannot take the host down) with hostile arguments,
// twice in a row on the same worker, each call under a 100 ms lua_timeout.
// It fails on a process crash, a call that outlives its deadline by far, a
// Go panic surfacing as a Lua error ("runtime error", a goroutine dump),
// and a worker that no longer serves `return 1 + 1` and ("x"):upper()
// afterwards.
//
// The input is (target, args): target names a binding ("cjson.encode",
// "ngx.shared.DICT:set", ...; any other string picks one by hash), args
// picks the argument count (first byte) and each argument from fuzzPool.
// Past findings live in testdata/fuzz/FuzzBindings and replay in every
// `go test`; TestBindingsFuzzRun sweeps every binding deterministically.

// fuzzSkip are bindings not called, with the reason.
var fuzzSkip = map[string]string{
	"lfs.chdir":    "changes the whole process's working directory",
	"lfs.mkdir":    "creates directories named by fuzz strings in the test's directory",
	"lfs.rmdir":    "removes directories named by fuzz strings",
	"lfs.touch":    "creates/changes files named by fuzz strings",
	"lfs.link":     "creates links named by fuzz strings",
	"lfs.lock_dir": "creates lock files named by fuzz strings",
	"lsyslog.log":  "writes to the machine's syslog (pdk/lib/lsyslog's tests use their own socket)",
	"resty.redis:connect": "connects to the network (fuzz strings as host names are DNS lookups); " +
		"pdk/lib/restyredis's tests cover it against a local server",
	"resty.http:request_uri": "connects to the network; pdk/lib/restyhttp's tests and " +
		"TestRestyHTTPStopsAtTheDeadline cover it against local servers",
}

// fuzzKnown are findings whose cause is outside this package's reach,
// logged instead of failing: binding-name prefix -> message part, reason.
var fuzzKnown = []struct{ prefix, msg, reason string }{}

// fuzzSkipModules are served modules not walked, with the reason.
var fuzzSkipModules = map[string]string{
	"busted":   "the spec runner's test framework: its functions register and run tests, not plugin calls",
	"luassert": "the spec runner's assertions (raise by design)",
}

// envSkip are bindings LUAHOST_FUZZ_SKIP (comma-separated) leaves out, to
// get past a crash while hunting; LUAHOST_FUZZ_TRACE prints each binding
// before its calls (a crash ends the output on its name).
var envSkip = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("LUAHOST_FUZZ_SKIP"), ",") {
		m[strings.TrimSpace(n)] = true
	}
	return m
}()

// fuzzTarget is one binding: fn called as fn(self, args...) when self is
// set (a method), else fn(args...).
type fuzzTarget struct {
	name string
	fn   lua.LValue
	self lua.LValue
}

// servedModules lists what `require` serves besides plugin files: every
// embedded shim (host/lua) and every preload of pdk.
func servedModules(w *Worker) []string {
	seen := map[string]bool{}
	_ = fs.WalkDir(embedded, "lua", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".lua") {
			return nil
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "lua/"), ".lua")
		name = strings.TrimSuffix(strings.ReplaceAll(name, "/", "."), ".init")
		seen[name] = true
		return nil
	})
	if pre, ok := w.L.GetField(w.L.GetField(w.L.Get(lua.GlobalsIndex), "package"), "preload").(*lua.LTable); ok {
		pre.ForEach(func(k, _ lua.LValue) {
			if s, ok := k.(lua.LString); ok {
				seen[string(s)] = true
			}
		})
	}
	var out []string
	for m := range seen {
		if _, skip := fuzzSkipModules[m]; !skip {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

const discoverLua = `
local modules = ...
local out, seen = {}, {}
local function add(name, fn, self)
  out[#out + 1] = { name = name, fn = fn, self = self }
end
local walkud
local function walk(prefix, t, depth)
  if seen[t] or depth > 4 then return end
  seen[t] = true
  local keys = {}
  for k in next, t do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = rawget(t, k)
    local name = prefix .. "." .. k
    if type(v) == "function" then add(name, v)
    elseif type(v) == "table" then walk(name, v, depth + 1)
    elseif type(v) == "userdata" then walkud(name, v) end
  end
end
-- methods of an object: its metatable's __index table, once per metatable
function walkud(name, obj)
  local mt = getmetatable(obj)
  if type(mt) ~= "table" or seen[mt] then return end
  seen[mt] = true
  local idx = rawget(mt, "__index")
  if type(idx) == "function" then
    -- methods made on demand (resty.redis's commands): the one for "get"
    local ok, fn = pcall(idx, obj, "get")
    if ok and type(fn) == "function" then add(name .. ":get", fn, obj) end
    return
  end
  if type(idx) ~= "table" then return end
  local keys = {}
  for k, v in next, idx do
    if type(k) == "string" and type(v) == "function" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do add(name .. ":" .. k, idx[k], obj) end
end
walk("ngx", ngx, 0)
walk("kong", kong, 0)
for _, m in ipairs(modules) do
  local ok, mod = pcall(require, m)
  if ok and type(mod) == "table" then walk(m, mod, 0)
  elseif ok and type(mod) == "function" then add(m, mod) end
end
-- objects made by constructors, and their methods
local tries = { { { type = "EC", curve = "prime256v1" } }, { "sha256" }, { { "127.0.0.1" } }, { "sha256", "key" }, { 2 }, {} }
local n = #out
for i = 1, n do
  local t = out[i]
  if not t.self and (t.name:match("%.new$") or t.name:match("%.new_bulk$")) then
    for _, args in ipairs(tries) do
      local ok, obj = pcall(t.fn, unpack(args))
      if ok and (type(obj) == "userdata" or type(obj) == "table") and getmetatable(obj) then
        walkud(t.name:gsub("%.new.*$", ""), obj)
        break
      end
    end
  end
end
return out
`

// discover lists the worker's bindings, sorted by name, skips left out.
func discover(t testing.TB, w *Worker) []fuzzTarget {
	t.Helper()
	L := w.L
	mods := L.NewTable()
	for _, m := range servedModules(w) {
		mods.Append(lua.LString(m))
	}
	proto, err := compileChunk("=discover", []byte(discoverLua))
	if err != nil {
		t.Fatal(err)
	}
	top := L.GetTop()
	if err := w.call(L.NewFunctionFromProto(proto), 1, mods); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	list := L.Get(-1).(*lua.LTable)
	L.SetTop(top)
	var out []fuzzTarget
	seen := map[string]bool{}
	for i := 1; i <= list.Len(); i++ {
		e := list.RawGetInt(i).(*lua.LTable)
		name := string(e.RawGetString("name").(lua.LString))
		if _, skip := fuzzSkip[name]; skip || seen[name] || envSkip[name] {
			continue
		}
		seen[name] = true
		out = append(out, fuzzTarget{name: name, fn: e.RawGetString("fn"), self: e.RawGetString("self")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

var fuzzMB = lua.LString(strings.Repeat("x", 1<<20))

// fuzzPool builds the argument values (per worker: tables and functions
// belong to a state); the method's object, when there is one, comes last.
func fuzzPool(t testing.TB, w *Worker) []lua.LValue {
	L := w.L
	mk := func(src string) lua.LValue {
		proto, err := compileChunk("=pool", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.call(L.NewFunctionFromProto(proto), 1); err != nil {
			t.Fatal(err)
		}
		v := L.Get(-1)
		L.Pop(1)
		return v
	}
	nested := mk(`return { 1, "two", { a = { b = { c = {} } } }, k = { 1, { 2, { 3 } } } }`)
	return []lua.LValue{
		lua.LNil, lua.LTrue, lua.LFalse,
		lua.LNumber(0), lua.LNumber(-1), lua.LNumber(1), lua.LNumber(3), lua.LNumber(0.5), lua.LNumber(100),
		lua.LNumber(1 << 31), lua.LNumber(-(1 << 31)), lua.LNumber(1 << 53), lua.LNumber(1e12), lua.LNumber(-1e12),
		lua.LNumber(math.NaN()), lua.LNumber(math.Inf(1)), lua.LNumber(math.Inf(-1)), lua.LNumber(-math.MaxFloat64),
		lua.LString(""), lua.LString("a"), lua.LString("key"), lua.LString("GET"), lua.LString("127.0.0.1"),
		lua.LString("(%d+"), lua.LString("[a-"), lua.LString("sha256"), lua.LString("/nonexistent/luahost-fuzz"),
		lua.LString("http://127.0.0.1:1/"), lua.LString("\x00\xff\xfe binary \x80"),
		fuzzMB,
		L.NewTable(), mk(`return { 1, 2, 3 }`), mk(`return { a = 1, b = "x", [true] = 2 }`), nested,
		// a table holding itself, in its array and hash parts: a walk
		// that does not cut the cycle recurses until Go's stack overflows
		mk(`local t = { 1 } t.self = t t[2] = t return t`),
		mk(`return setmetatable({}, { __index = function(_, k) error("index " .. tostring(k)) end,
			__newindex = function() error("newindex") end, __tostring = function() error("tostring") end,
			__len = function() error("len") end, __eq = function() error("eq") end, __call = function() error("call") end })`),
		mk(`return setmetatable({}, { __index = function(t, k) return t[k] end })`),
		mk(`return function() error("callback fails") end`),
		mk(`return function() while true do end end`),
		mk(`return function(...) return ... end`),
		mk(`return require("cjson").null`),
		mk(`return kong`),
		// a table reached 2^40 ways (no cycle): walkers that only cut
		// cycles do 2^40 steps
		mk(`local t = { 1 } for i = 1, 40 do t = { t, t, k = t } end return t`),
		mk(`local t = { 1 } for i = 1, 40 do t = { t, t, k = t } end return function() return t end`),
		// (values are added last: the committed findings pick by index)
		// tables nested fuzzDeep levels (in the array part, as ngx.say's
		// flattening walks them, and in the hash part): a walk with no
		// depth bound overruns the stack fuzzMaxStack leaves the sweep
		mk(`local t = { 1 } for _ = 1, ` + strconv.Itoa(fuzzDeep) + ` do t = { t } end return t`),
		mk(`local t = { k = 1 } for _ = 1, ` + strconv.Itoa(fuzzDeep) + ` do t = { k = t } end return t`),
	}
}

// fuzzDeep is how deeply the pool's nested tables nest, and fuzzMaxStack
// the goroutine stack the fuzzer allows (Go's default is 1 GB, which a
// recursion over fuzzDeep levels would not reach): every binding bounds
// its walks far below (ngx.say 64 levels, cjson 1000, Kong's recursive
// Lua functions bind.MaxRecursion), so only an unbounded walk can overrun
// it, and that ends the test binary with "fatal error: stack overflow"
// naming the walk.
const (
	fuzzDeep     = 25000
	fuzzMaxStack = 2 << 20
)

// fuzzer runs calls on workers of one host, replacing a worker its
// deadline stopped.
type fuzzer struct {
	t        testing.TB
	h        *Host
	w        *Worker
	targets  []fuzzTarget
	byName   map[string]int
	pool     []lua.LValue
	calls    int
	workers  int
	findings int
	reported map[string]bool
}

func newFuzzer(t testing.TB) *fuzzer {
	// the host loads the plugins (and builds replacement workers) under a
	// long deadline: a loaded machine takes more than 100 ms to load them;
	// the fuzzed calls get fuzzCallTimeout (acquire)
	h := examplesHost(t, "lua_timeout", "60000", "lua_memory_budget", "64m")
	prev := debug.SetMaxStack(fuzzMaxStack)
	t.Cleanup(func() { debug.SetMaxStack(prev) })
	f := &fuzzer{t: t, h: h}
	f.acquire()
	t.Cleanup(func() {
		if f.w != nil {
			h.Pool.Release(f.w)
		}
	})
	return f
}

func (f *fuzzer) acquire() {
	w, err := f.h.Pool.Acquire(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	f.w = w
	f.workers++
	// discovery requires every module (compiling them): not under the
	// calls' short deadline
	w.timeout = time.Minute
	f.targets = discover(f.t, w)
	f.pool = fuzzPool(f.t, w)
	w.timeout = fuzzCallTimeout
	f.byName = map[string]int{}
	for i, tg := range f.targets {
		f.byName[tg.name] = i
	}
}

// pick finds a target by name, or by hash of the name.
func (f *fuzzer) pick(name string) int {
	if i, ok := f.byName[name]; ok {
		return i
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % uint32(len(f.targets)))
}

// fuzzCallTimeout is each fuzzed call's lua_timeout.
const fuzzCallTimeout = 100 * time.Millisecond

// hangMargin is how long past its deadline a call may run before the
// fuzzer calls it a hang (generous: the machine is shared).
const hangMargin = 20 * time.Second

// run calls target i twice with the arguments args selects, then checks
// the worker still serves.
func (f *fuzzer) run(i int, args []byte) {
	tg := f.targets[i]
	desc := func(vals []lua.LValue) string {
		var parts []string
		for _, v := range vals {
			s := v.String()
			if len(s) > 40 {
				s = s[:40] + "..."
			}
			parts = append(parts, fmt.Sprintf("%s(%q)", v.Type(), s))
		}
		return tg.name + "(" + strings.Join(parts, ", ") + ")"
	}
	pool := append(f.pool[:len(f.pool):len(f.pool)], tg.self)
	var vals []lua.LValue
	if tg.self != lua.LNil {
		vals = append(vals, tg.self)
	}
	if len(args) > 0 {
		n := int(args[0]) % 5
		for k := 0; k < n; k++ {
			b := byte(k * 7)
			if 1+k < len(args) {
				b = args[1+k]
			}
			vals = append(vals, pool[int(b)%len(pool)])
		}
	}
	what := desc(vals)
	for round := 0; round < 2; round++ {
		f.calls++
		hang := time.AfterFunc(f.w.timeout+hangMargin, func() {
			panic("FuzzBindings: hang: " + what + " ran past its deadline")
		})
		top := f.w.L.GetTop()
		err := f.w.call(tg.fn, lua.MultRet, vals...)
		hang.Stop()
		f.w.L.SetTop(top)
		if err != nil {
			msg := err.Error()
			var te *TimeoutError
			if asTimeout(err, &te) && te.Err != nil {
				msg = te.Err.Error()
			}
			for _, bad := range []string{"runtime error", "goroutine ", "panic", ".go:"} {
				if strings.Contains(msg, bad) {
					f.report(tg.name+"|panic", "%s: a Go panic reached Lua: %s", what, msg)
					break
				}
			}
		}
		if f.w.Poisoned() {
			f.h.Pool.Release(f.w)
			f.acquire()
			return
		}
	}
	for _, src := range []string{`assert(1 + 1 == 2)`, `assert(("x"):upper() == "X")`} {
		// the check runs under a long deadline: on a loaded machine a
		// trivial call can be descheduled past 100 ms, which says nothing of
		// the state the binding left
		short := f.w.timeout
		f.w.timeout = time.Minute
		err := f.w.DoString("=fuzz-check", src)
		f.w.timeout = short
		if err != nil {
			f.report(tg.name+"|serves", "after %s the worker no longer serves %s: %v", what, src, err)
			f.w.poisoned = true
			f.h.Pool.Release(f.w)
			f.acquire()
			return
		}
	}
	// a request boundary, as the pool would make it
	f.w.reset()
}

// report fails the test once per binding and kind of finding (a known
// finding owned elsewhere is logged).
func (f *fuzzer) report(key, format string, args ...any) {
	if f.reported == nil {
		f.reported = map[string]bool{}
	}
	if f.reported[key] {
		return
	}
	f.reported[key] = true
	msg := fmt.Sprintf(format, args...)
	for _, k := range fuzzKnown {
		if strings.HasPrefix(key, k.prefix) && strings.Contains(msg, k.msg) {
			f.t.Logf("known, %s: %s", k.reason, msg)
			return
		}
	}
	f.findings++
	f.t.Error(msg)
}

func asTimeout(err error, te **TimeoutError) bool {
	t, ok := err.(*TimeoutError)
	if ok {
		*te = t
	}
	return ok
}

func FuzzBindings(f *testing.F) {
	f.Add("cjson.encode", []byte{1, 34})
	f.Add("kong.table.new", []byte{2, 12, 12})
	f.Add("lsyslog.open", []byte{1, 0})
	fz := newFuzzer(f)
	f.Fuzz(func(t *testing.T, target string, args []byte) {
		fz.t = t
		fz.run(fz.pick(target), args)
	})
}

// TestBindingsFuzzRun sweeps every binding: for each, a fixed set of
// argument lists (none, then each hostile value alone) and
// LUAHOST_FUZZ_CALLS random ones of up to 4 values (default 1), each
// called twice. Set
// LUAHOST_FUZZ_CALLS=0 to keep only the fixed lists, more to search
// longer.
func TestBindingsFuzzRun(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps every binding")
	}
	random := 1
	if raceEnabled {
		random = 0
	}
	if s := os.Getenv("LUAHOST_FUZZ_CALLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		random = n
	}
	f := newFuzzer(t)
	// the committed findings name bindings that exist
	files, _ := filepath.Glob("testdata/fuzz/FuzzBindings/*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if s, ok := strings.CutPrefix(line, "string("); ok {
				name, err := strconv.Unquote(strings.TrimSuffix(s, ")"))
				if _, found := f.byName[name]; err != nil || !found {
					t.Errorf("%s: no binding %s", file, s)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(14, 2026))
	names := make([]string, len(f.targets))
	for i, tg := range f.targets {
		names[i] = tg.name
	}
	poolSize := len(f.pool) + 1
	for _, name := range names {
		var lists [][]byte
		lists = append(lists, []byte{0})
		for v := 0; v < poolSize; v++ {
			if raceEnabled && v%8 != 0 { // under -race, every 8th value
				continue
			}
			lists = append(lists, []byte{1, byte(v)})
		}
		for k := 0; k < random; k++ {
			b := make([]byte, 5)
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			lists = append(lists, b)
		}
		start := time.Now()
		if os.Getenv("LUAHOST_FUZZ_TRACE") != "" {
			fmt.Fprintln(os.Stderr, "fuzz:", name)
		}
		for _, args := range lists {
			i, ok := f.byName[name]
			if !ok {
				break
			}
			f.run(i, args)
		}
		if os.Getenv("LUAHOST_FUZZ_SLOW") != "" && time.Since(start) > 300*time.Millisecond {
			t.Logf("slow: %s %v", name, time.Since(start))
		}
	}
	t.Logf("bindings: %d discovered and called (%d skipped by name), %d calls, %d workers, %d findings",
		len(names), len(fuzzSkip), f.calls, f.workers, f.findings)
}
