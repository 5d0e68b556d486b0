package pdk

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

const loaderLua = `
calls = calls or 0
function load(v, ttl)
  calls = calls + 1
  return v, nil, ttl
end
function load_err(msg) calls = calls + 1; return nil, msg end
function load_throw(msg) calls = calls + 1; error(msg) end
`

func TestCacheGetHitLevels(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	for i := range env.ins {
		env.do(t, i, loaderLua)
	}
	// No callback, nothing cached: nil, nil, -1.
	wantStr(t, "miss", env.one(t, 0, `return select('#', kong.cache:get("k")), kong.cache:get("k")`), "3 nil nil -1")
	// The callback runs with the extra arguments; level 3, then 1.
	wantStr(t, "load", env.one(t, 0, `
v = { name = "x", list = setmetatable({}, require("cjson").array_mt), n = 1.5 }
local a, err, hit = kong.cache:get("k", nil, load, v)
return rawequal(a, v), err, hit, calls`), "true nil 3 1")
	wantStr(t, "L1", env.one(t, 0, `local a, err, hit = kong.cache:get("k", nil, load, "other")
return rawequal(a, v), err, hit, calls`), "true nil 1 1")
	// Another worker reads the L2 copy (a new table, array metatable kept),
	// then holds it in its own L1.
	wantStr(t, "L2", env.one(t, 1, `
local a, err, hit = kong.cache:get("k", nil, load, "other")
first = a
return a.name, a.n, getmetatable(a.list) == require("cjson").array_mt, err, hit, calls`), "x 1.5 true nil 2 0")
	wantStr(t, "L1 of worker 1", env.one(t, 1, `local a, err, hit = kong.cache:get("k", nil, load)
return rawequal(a, first), hit`), "true 1")
}

func TestCacheNegativeEntries(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2, props: []string{"db_cache_neg_ttl", "30"}})
	for i := range env.ins {
		env.do(t, i, loaderLua)
	}
	wantStr(t, "nil cached", env.one(t, 0, `local v, err, hit = kong.cache:get("nope", nil, load, nil)
return v, err, hit, calls`), "nil nil 3 1")
	wantStr(t, "L1 negative", env.one(t, 0, `local v, err, hit = kong.cache:get("nope", nil, load, "x")
return v, err, hit, calls`), "nil nil 1 1")
	wantStr(t, "L2 negative", env.one(t, 1, `local v, err, hit = kong.cache:get("nope", nil, load, "x")
return v, err, hit, calls`), "nil nil 2 0")
	wantStr(t, "probe negative", env.one(t, 0, `return kong.cache:probe("nope")`), "30 nil nil")
	env.clock.Advance(31 * time.Second)
	wantStr(t, "neg_ttl expired", env.one(t, 0, `local v, err, hit = kong.cache:get("nope", nil, load, "now")
return v, err, hit, calls`), "now nil 3 2")
}

func TestCacheCallbackErrors(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, loaderLua)
	// nil, err: returned with Kong's prefix and not cached.
	wantStr(t, "returned error", env.one(t, 0, `return kong.cache:get("e", nil, load_err, "db down")`),
		"nil failed to get from node cache: db down")
	wantStr(t, "not cached", env.one(t, 0, `local v, err = kong.cache:get("e", nil, load, "up"); return v, err, calls`), "up nil 2")
	// A thrown error is caught, logged at ERR and returned.
	got := env.one(t, 0, `return kong.cache:get("t", nil, load_throw, "kaboom")`)
	if !strings.HasPrefix(got, "nil failed to get from node cache: callback threw an error: test.lua:8: kaboom") {
		t.Fatalf("thrown: %q", got)
	}
	logged := strings.Join(env.sink.all(), "\n")
	if !strings.Contains(logged, "error|[DB cache] failed to get from node cache: callback threw an error: test.lua:8: kaboom") {
		t.Fatalf("not logged at ERR:\n%s", logged)
	}
	// The error is not cached either.
	wantStr(t, "after throw", env.one(t, 0, `local v, err, hit = kong.cache:get("t", nil, load, 7); return v, err, hit`), "7 nil 3")
	// Values that cannot be cached are Lua errors.
	msg := env.fail(t, 0, `kong.cache:get("f", nil, function() return function() end end)`)
	if !strings.HasSuffix(msg, "cannot cache value of type function") {
		t.Fatalf("function value: %q", msg)
	}
	msg = env.fail(t, 0, `kong.cache:get("f", nil, function() return { co = coroutine.create(print) } end)`)
	if !strings.HasSuffix(msg, "cannot cache value of type thread") {
		t.Fatalf("thread value: %q", msg)
	}
}

func TestCacheArgumentErrors(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, loaderLua)
	cases := map[string]string{
		`kong.cache:get(1)`:                                     "test.lua:1: key must be a string",
		`kong.cache:get("k", nil, "cb")`:                        "test.lua:1: callback must be nil or a function",
		`kong.cache:get("k", 5, load)`:                          "test.lua:1: opts must be a table",
		`kong.cache:get("k", { ttl = "1" }, load)`:              "test.lua:1: opts.ttl must be a number",
		`kong.cache:get("k", { ttl = -1 }, load)`:               "test.lua:1: opts.ttl must be >= 0",
		`kong.cache:get("k", { neg_ttl = -1 }, load)`:           "test.lua:1: opts.neg_ttl must be >= 0",
		`kong.cache:get("k", { resurrect_ttl = {} }, load)`:     "test.lua:1: opts.resurrect_ttl must be a number",
		`kong.cache:get("k", { l1_serializer = 1 }, load)`:      "test.lua:1: opts.l1_serializer must be a function",
		`kong.cache:get("k", { shm_set_tries = 0 }, load)`:      "test.lua:1: opts.shm_set_tries must be >= 1",
		`kong.cache:probe(nil)`:                                 "test.lua:1: key must be a string",
		`kong.cache:invalidate({})`:                             "test.lua:1: key must be a string",
		`kong.core_cache:invalidate_local(false)`:               "test.lua:1: key must be a string",
		`kong.cache:renew("k", nil, nil)`:                       "test.lua:1: callback must be a function",
		`kong.cache:get_bulk("x")`:                              "test.lua:1: bulk must be a table",
		`kong.cache:get_bulk({})`:                               "test.lua:1: bulk must have n field",
		`kong.cache:get_bulk({ n = 1, 5, nil, load })`:          "test.lua:1: key at index 1 must be a string for operation 1 (got number)",
		`kong.cache:get_bulk({ n = 1, "a", nil, 5 })`:           "test.lua:1: callback at index 3 must be a function for operation 1 (got number)",
		`kong.cache:get_bulk({ n = 1, "a", 5, load })`:          "test.lua:1: options at index 2 for operation 1 are invalid: opts must be a table",
		`kong.cache:get_bulk({ n = 0 }, { concurrency = 0 })`:   "test.lua:1: opts.concurrency must be > 0",
		`kong.cache:get_bulk({ n = 0 }, { concurrency = "1" })`: "test.lua:1: opts.concurrency must be a number",
	}
	for src, want := range cases {
		wantStr(t, src, env.fail(t, 0, src), want)
	}
	// An L1 hit does not look at opts, as mlcache.
	env.do(t, 0, `kong.cache:get("hot", nil, load, 1)`)
	wantStr(t, "L1 before opts", env.one(t, 0, `return kong.cache:get("hot", 5, load)`), "1 nil 1")
}

func TestCacheTTLs(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2, props: []string{"db_cache_ttl", "60"}})
	for i := range env.ins {
		env.do(t, i, loaderLua)
	}
	env.do(t, 0, `kong.cache:get("default", nil, load, "d")
kong.cache:get("opt", { ttl = 10 }, load, "o")
kong.cache:get("cb", nil, load, "c", 5)
kong.cache:get("forever", { ttl = 10 }, load, "f", 0)
kong.cache:get("bypass", nil, load, "b", -1)`)
	wantStr(t, "probe ttls", env.one(t, 1, `
local out = {}
for _, k in ipairs({ "default", "opt", "cb", "forever" }) do
  local ttl, err, v = kong.cache:probe(k)
  out[#out + 1] = k .. "=" .. tostring(ttl) .. "/" .. tostring(v)
end
return table.concat(out, " "), kong.cache:probe("bypass")`), "default=60/d opt=10/o cb=5/c forever=0/f nil nil nil")
	// ttl < 0 returns the value without caching it anywhere.
	wantStr(t, "bypass", env.one(t, 0, `local v, err, hit = kong.cache:get("bypass", nil, load, "b2"); return v, hit, calls`), "b2 3 6")
	env.do(t, 1, `kong.cache:get("cb", nil, load)`) // into worker 1's L1, 5 s left
	env.clock.Advance(6 * time.Second)
	// Expired in L1 and L2: both workers run the callback again.
	wantStr(t, "L1 expiry", env.one(t, 1, `local v, err, hit = kong.cache:get("cb", nil, load, "c2"); return v, hit`), "c2 3")
	wantStr(t, "L1 expiry w0", env.one(t, 0, `local v, err, hit = kong.cache:get("opt", nil, load, "o2"); return v, hit`), "o 1")
	env.clock.Advance(5 * time.Second)
	wantStr(t, "opts.ttl expiry", env.one(t, 0, `local v, err, hit = kong.cache:get("opt", nil, load, "o2"); return v, hit`), "o2 3")
	wantStr(t, "ttl 0 never expires", env.one(t, 0, `local v, err, hit = kong.cache:get("forever", nil, load, "f2"); return v, hit`), "f 1")
}

func TestCacheResurrect(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{props: []string{"db_cache_ttl", "10", "db_resurrect_ttl", "30"}})
	env.do(t, 0, loaderLua)
	env.do(t, 0, `kong.cache:get("r", nil, load, "old")`)
	env.clock.Advance(11 * time.Second)
	wantStr(t, "stale served", env.one(t, 0, `local v, err, hit = kong.cache:get("r", nil, load_err, "db down"); return v, err, hit`), "old nil 4")
	wantStr(t, "thrown never resurrects", env.one(t, 0, `kong.cache:invalidate_local("r2")
kong.cache:get("r2", nil, load, "x")`), "")
	env.clock.Advance(11 * time.Second)
	got := env.one(t, 0, `local v, err, hit = kong.cache:get("r2", nil, load_throw, "boom"); return v, hit`)
	wantStr(t, "thrown", got, "nil nil")
}

func TestCacheInvalidationReachesEveryWorker(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 3})
	for i := range env.ins {
		env.do(t, i, loaderLua)
		env.do(t, i, `kong.cache:get("k", nil, load, "v1"); kong.core_cache:get("k", nil, load, "core")`)
	}
	for i := range env.ins {
		wantStr(t, "warm", env.one(t, i, `local _, _, hit = kong.cache:get("k", nil, load, "x"); return hit`), "1")
	}
	// invalidate in worker 2 evicts L2 and the L1 of workers 0, 1 and 2,
	// without touching kong.core_cache.
	env.do(t, 2, `kong.cache:invalidate("k")`)
	wantStr(t, "w0 reloads", env.one(t, 0, `local v, _, hit = kong.cache:get("k", nil, load, "v2"); return v, hit`), "v2 3")
	wantStr(t, "w1 reads L2", env.one(t, 1, `local v, _, hit = kong.cache:get("k", nil, load, "v3"); return v, hit`), "v2 2")
	wantStr(t, "w2 reads L2", env.one(t, 2, `local v, _, hit = kong.cache:get("k", nil, load, "v3"); return v, hit`), "v2 2")
	wantStr(t, "core untouched", env.one(t, 1, `local v, _, hit = kong.core_cache:get("k", nil, load, "x"); return v, hit`), "core 1")
	// invalidate_local too (it only skips the cluster event).
	env.do(t, 0, `kong.core_cache:invalidate_local("k")`)
	wantStr(t, "core reload", env.one(t, 1, `local v, _, hit = kong.core_cache:get("k", nil, load, "core2"); return v, hit`), "core2 3")
	// purge empties every L1 and L2.
	env.do(t, 1, `kong.cache:purge()`)
	for i := range env.ins {
		if n := L1Len(env.ins[i], false); n != 0 {
			t.Fatalf("worker %d L1 after purge: %d entries", i, n)
		}
	}
	wantStr(t, "after purge", env.one(t, 2, `local v, _, hit = kong.cache:get("k", nil, load, "v4"); return v, hit, kong.cache:probe("zzz")`), "v4 3 nil nil nil")
	if !strings.Contains(strings.Join(env.sink.all(), "\n"), "notice|[DB cache] purging (local) cache") {
		t.Fatalf("purge not logged: %v", env.sink.all())
	}
}

func TestCacheInvalidationDuringLoadIsNotKept(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	env.do(t, 0, loaderLua)
	// The callback itself triggers an invalidation of its key (as a write
	// racing with the load would): the loaded value is returned but kept
	// neither in L2 nor in L1.
	wantStr(t, "racing invalidation", env.one(t, 0, `
local v, err, hit = kong.cache:get("k", nil, function()
  kong.cache:invalidate_local("k")
  kong.cache:get("other", nil, load, 1) -- a nested get applies the drop
  return "stale"
end)
return v, hit, kong.cache:probe("k")`), "stale 3 nil nil nil")
	wantStr(t, "reloaded", env.one(t, 0, `local v, _, hit = kong.cache:get("k", nil, load, "fresh"); return v, hit`), "fresh 3")
}

func TestCacheProbeSafeSet(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2, props: []string{"db_cache_ttl", "20"}})
	env.do(t, 0, loaderLua)
	env.do(t, 1, loaderLua)
	wantStr(t, "safe_set", env.one(t, 0, `return kong.cache:safe_set("w", { a = { 1, 2, ngx.null } })`), "true")
	wantStr(t, "safe_set bad", env.one(t, 0, `return kong.cache:safe_set("w2", print)`), "nil cannot cache value of type function")
	// safe_set does not touch L1: worker 0 reads L2 too.
	wantStr(t, "read back", env.one(t, 0, `local v, err, hit = kong.cache:get("w", nil, load, "x")
return #v.a, v.a[3] == ngx.null, hit, calls`), "3 true 2 0")
	wantStr(t, "probe", env.one(t, 1, `local ttl, err, v = kong.cache:probe("w"); return ttl, err, v.a[2]`), "20 nil 2")
}

func TestCacheGetBulk(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	env.do(t, 0, loaderLua)
	env.do(t, 1, loaderLua)
	env.do(t, 0, `kong.cache:get("b", nil, load, "B")`)
	got := env.one(t, 1, `
kong.cache:get("a", nil, load, "A")
local mlcache = require "kong.resty.mlcache"
local bulk = mlcache.new_bulk(4)
bulk:add("a", nil, load, "x")
bulk:add("b", nil, load, "x")
bulk:add("c", { ttl = 3 }, load, "C")
bulk:add("d", nil, load_err, "bad")
local res, err = kong.cache:get_bulk(bulk, { concurrency = 2 })
local out = { res.n }
for i, data, err, hit in mlcache.each_bulk_res(res) do
  out[#out + 1] = i .. ":" .. tostring(data) .. "," .. tostring(err) .. "," .. tostring(hit)
end
return table.concat(out, " "), err`)
	wantStr(t, "get_bulk", got, "12 1:A,nil,1 2:B,nil,2 3:C,nil,3 4:nil,bad,nil nil")
	msg := env.fail(t, 1, `require("resty.mlcache").each_bulk_res({})`)
	wantStr(t, "each_bulk_res", msg, "test.lua:1: res must have res.n field; is this a get_bulk() result?")
}

func TestCacheRenew(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2, props: []string{"db_cache_ttl", "100"}})
	env.do(t, 0, loaderLua)
	env.do(t, 1, loaderLua)
	env.do(t, 1, `kong.cache:get("r", nil, load, "v1")`)
	wantStr(t, "renew", env.one(t, 0, `return kong.cache:renew("r", nil, load, "v2", 7)`), "v2 nil 7")
	wantStr(t, "renewed everywhere", env.one(t, 1, `local v, _, hit = kong.cache:get("r", nil, load, "v3"); return v, hit`), "v2 2")
	wantStr(t, "renew in own L1", env.one(t, 0, `local v, _, hit = kong.cache:get("r", nil, load, "v3"); return v, hit`), "v2 1")
	wantStr(t, "renew error", env.one(t, 0, `return kong.cache:renew("r", nil, load_err, "down")`), "nil failed to renew key in node cache: down")
	wantStr(t, "renew nil", env.one(t, 0, `return kong.cache:renew("r", nil, load, nil)`), "nil nil 100")
	wantStr(t, "renewed nil", env.one(t, 1, `local v, _, hit = kong.cache:get("r", nil, load, "v3"); return v, hit`), "nil 2")
}

func TestCacheL1Serializer(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	env.do(t, 0, loaderLua)
	env.do(t, 1, loaderLua)
	env.do(t, 0, `ser = { l1_serializer = function(v) return { wrapped = v } end }`)
	env.do(t, 1, `ser = { l1_serializer = function(v) return { wrapped = v } end }
bad = { l1_serializer = function(v) return nil end }
boom = { l1_serializer = function(v) error("nope") end }`)
	wantStr(t, "loaded", env.one(t, 0, `local v, _, hit = kong.cache:get("s", ser, load, "raw"); return v.wrapped, hit`), "raw 3")
	wantStr(t, "L1 keeps serialized", env.one(t, 0, `local v, _, hit = kong.cache:get("s", ser, load, "x"); return v.wrapped, hit`), "raw 1")
	wantStr(t, "from L2", env.one(t, 1, `local v, _, hit = kong.cache:get("s", ser, load, "x"); return v.wrapped, hit`), "raw 2")
	wantStr(t, "nil result", env.one(t, 1, `return kong.cache:get("s2", bad, load, "x")`), "nil failed to get from node cache: l1_serializer returned a nil value")
	got := env.one(t, 1, `return kong.cache:get("s3", boom, load, "x")`)
	if !strings.HasPrefix(got, "nil failed to get from node cache: l1_serializer threw an error: test.lua:3: nope") {
		t.Fatalf("l1_serializer error: %q", got)
	}
}

func TestCacheNestedGetInCallback(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, loaderLua)
	wantStr(t, "nested", env.one(t, 0, `
local v, err, hit = kong.cache:get("outer", nil, function()
  local inner = kong.cache:get("inner", nil, load, { x = 1 })
  local again = kong.core_cache:get("inner", nil, load, { x = 2 })
  return { sum = inner.x + again.x }
end)
return v.sum, hit, (kong.cache:get("inner")).x`), "3 3 1")
	// A callback asking for its own key fails at once instead of waiting
	// for its own lock.
	wantStr(t, "recursive", env.one(t, 0, `
local inner_err
local v, err = kong.cache:get("self", nil, function()
  local _, e = kong.cache:get("self", nil, load, "x")
  inner_err = e
  return "outer"
end)
return v, inner_err`), "outer failed to get from node cache: could not acquire callback lock: timeout")
}

// 64 concurrent gets of one cold key, across 8 workers (each worker is used
// by one goroutine at a time, as the pool guarantees), run the callback
// once; everyone gets the value.
func TestCacheColdKeySingleFlight(t *testing.T) {
	const workers, gets = 8, 64
	env := newCacheEnv(t, cacheEnvOpts{workers: workers})
	var loads atomic.Int32
	release, entered := make(chan struct{}), make(chan struct{})
	var enter sync.Once
	for _, in := range env.ins {
		in.L.SetGlobal("slow_load", in.L.NewFunction(func(L *lua.LState) int {
			loads.Add(1)
			enter.Do(func() { close(entered) })
			<-release
			t := L.NewTable()
			t.RawSetString("id", lua.LString("cred-1"))
			L.Push(t)
			return 1
		}))
	}
	var wg sync.WaitGroup
	results := make(chan string, gets)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(in *Instance) {
			defer wg.Done()
			for i := 0; i < gets/workers; i++ {
				vals, err := runErr(in, "get.lua", `local v, err, hit = kong.cache:get("cold", nil, slow_load); return v and v.id, err, hit`)
				if err != nil {
					results <- err.Error()
					continue
				}
				results <- vals[0].String() + " " + vals[1].String() + " " + vals[2].String()
			}
		}(env.ins[w])
	}
	// The load is under way (the others wait on its flight, or find the
	// value once it is stored); then finish it.
	<-entered
	close(release)
	wg.Wait()
	close(results)
	counts := map[string]int{}
	for r := range results {
		counts[r]++
	}
	if loads.Load() != 1 {
		t.Fatalf("callback ran %d times, want 1 (%v)", loads.Load(), counts)
	}
	total := 0
	for r, n := range counts {
		if !strings.HasPrefix(r, "cred-1 nil ") {
			t.Fatalf("unexpected result %q", r)
		}
		total += n
	}
	if total != gets || counts["cred-1 nil 3"] != 1 {
		t.Fatalf("results: %v", counts)
	}
}
