package pdk

import (
	"strconv"
	"strings"
	"testing"
)

// dumpStats renders get_memory_stats' result with keys sorted and only
// the dict "mydict" of lua_shared_dicts (plus how many there are).
const dumpStats = `
local function dump(v)
  if type(v) ~= "table" then
    return type(v) == "string" and string.format("%q", v) or tostring(v)
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. dump(v[k]) end
  return "{" .. table.concat(out, ",") .. "}"
end
local function stats(...)
  local s = kong.node.get_memory_stats(...)
  local n = 0
  for _ in pairs(s.lua_shared_dicts) do n = n + 1 end
  local mine = s.lua_shared_dicts.mydict
  s.lua_shared_dicts = { mydict = mine, n = n }
  return dump(s)
end
`

func newStatsState(t *testing.T, heap float64, workers ...int) *Instance {
	t.Helper()
	in, _ := newShimState(t, "lua_shared_dicts", "mydict 64k")
	in.WorkerID = 1
	if workers != nil {
		in.Root.LiveWorkers = func() []int { return workers }
	}
	old := luaHeapBytes
	luaHeapBytes = func() float64 { return heap }
	t.Cleanup(func() { luaHeapBytes = old })
	run(t, in, "setup.lua", `assert(ngx.shared.mydict:set("a", "xyz"))`) // 1 + 3 + 64 bytes
	return in
}

// get_memory_stats' shape and each unit, as Kong's kong/pdk/node.lua and
// bytes_to_str (kong/tools/string.lua) write them: numbers for b/B,
// "%d" strings for "", "<n> KiB|MiB|GiB" with scale decimals (2 by
// default); one VM per live worker, sorted, pid as ngx.worker.pid().
func TestNodeMemoryStats(t *testing.T) {
	in := newStatsState(t, 3*12288, 2, 0, 1)
	n := len(in.Root.SharedDictNames())
	vms := func(v string) string {
		w := "{http_allocated_gc=" + v + ",pid=4242}"
		return "workers_lua_vms={1=" + w + ",2=" + w + ",3=" + w + "}}"
	}
	dict := func(alloc, capacity string) string {
		return "{lua_shared_dicts={mydict={allocated_slabs=" + alloc + ",capacity=" + capacity + "},n=" + strconv.Itoa(n) + "},"
	}
	cases := map[string]string{
		`stats()`:             dict("68", "65536") + vms("12288"),
		`stats(nil, nil)`:     dict("68", "65536") + vms("12288"),
		`stats(false, false)`: dict("68", "65536") + vms("12288"),
		`stats("b")`:          dict("68", "65536") + vms("12288"),
		`stats("B", 7)`:       dict("68", "65536") + vms("12288"),
		`stats("b", -1)`:      dict("68", "65536") + vms("12288"), // the scale is not read for b
		`stats("", "x")`:      dict(`"68"`, `"65536"`) + vms(`"12288"`),
		`stats("k")`:          dict(`"0.07 KiB"`, `"64.00 KiB"`) + vms(`"12.00 KiB"`),
		`stats("K", 1)`:       dict(`"0.1 KiB"`, `"64.0 KiB"`) + vms(`"12.0 KiB"`),
		`stats("k", 0)`:       dict(`"0 KiB"`, `"64 KiB"`) + vms(`"12 KiB"`),
		`stats("k", 3.9)`:     dict(`"0.066 KiB"`, `"64.000 KiB"`) + vms(`"12.000 KiB"`),
		`stats("m")`:          dict(`"0.00 MiB"`, `"0.06 MiB"`) + vms(`"0.01 MiB"`),
		`stats("M", 5)`:       dict(`"0.00006 MiB"`, `"0.06250 MiB"`) + vms(`"0.01172 MiB"`),
		`stats("g", 9)`:       dict(`"0.000000063 GiB"`, `"0.000061035 GiB"`) + vms(`"0.000011444 GiB"`),
		`stats("G", false)`:   dict(`"0.00 GiB"`, `"0.00 GiB"`) + vms(`"0.00 GiB"`),
		`kong.node.get_memory_stats("k", 99).lua_shared_dicts.mydict.allocated_slabs`: "0.06640625" + strings.Repeat("0", 91) + " KiB",
	}
	for src, want := range cases {
		if got := str(t, in, dumpStats+"return "+src); got != want {
			t.Errorf("%s:\n got %s\nwant %s", src, got, want)
		}
	}
	// allocated_slabs is capacity less free_space
	if got := str(t, in, `local d = ngx.shared.mydict
return kong.node.get_memory_stats().lua_shared_dicts.mydict.allocated_slabs == d:capacity() - d:free_space()`); got != "true" {
		t.Errorf("allocated_slabs: %s", got)
	}
}

// The figures: an even share of the heap per worker (floored for b, "%d"
// truncates), the calling worker alone without Root.LiveWorkers.
func TestNodeMemoryStatsWorkers(t *testing.T) {
	in := newStatsState(t, 3*1000.75, 5, 3, 4)
	if got := str(t, in, dumpStats+`
local s = kong.node.get_memory_stats()
local k = kong.node.get_memory_stats("")
return #s.workers_lua_vms .. " " .. s.workers_lua_vms[1].http_allocated_gc .. " " .. k.workers_lua_vms[3].http_allocated_gc`); got != "3 1000 1000" {
		t.Errorf("floored share: %s", got)
	}
	// halves round to even, as glibc's printf (LuaJIT's %f) does
	in = newStatsState(t, 2*2560, 1, 2)
	if got := str(t, in, `return kong.node.get_memory_stats("k", 0).workers_lua_vms[1].http_allocated_gc ..
		" " .. kong.node.get_memory_stats("k", 1).workers_lua_vms[2].http_allocated_gc`); got != "2 KiB 2.5 KiB" {
		t.Errorf("a half: %s", got)
	}
	in = newStatsState(t, 2*3584, 1, 2)
	if got := str(t, in, `return kong.node.get_memory_stats("k", 0).workers_lua_vms[1].http_allocated_gc`); got != "4 KiB" {
		t.Errorf("3.5 KiB: %s", got)
	}
	in = newStatsState(t, 2048, nil...)
	if got := str(t, in, `local s = kong.node.get_memory_stats("k", 1)
return #s.workers_lua_vms .. " " .. s.workers_lua_vms[1].http_allocated_gc .. " " .. s.workers_lua_vms[1].pid`); got != "1 2.0 KiB 4242" {
		t.Errorf("calling worker alone: %s", got)
	}
	in = newStatsState(t, 2048, []int{}...)
	if got := str(t, in, `return #kong.node.get_memory_stats().workers_lua_vms`); got != "0" {
		t.Errorf("no live worker: %s", got)
	}
}

// Kong's errors for unit and scale (bytes_to_str's, raised at
// get_memory_stats' caller), in its order: a bad scale before a bad unit,
// no scale check for b and "".
func TestNodeMemoryStatsErrors(t *testing.T) {
	in := newStatsState(t, 1)
	const unit = "(expected 'k/K', 'm/M', or 'g/G')"
	errs := map[string]string{
		`kong.node.get_memory_stats("x")`:                             "test.lua:1: invalid unit 'x' " + unit,
		`kong.node.get_memory_stats("kb")`:                            "test.lua:1: invalid unit 'kb' " + unit,
		`kong.node.get_memory_stats(5)`:                               "test.lua:1: invalid unit '5' " + unit,
		`kong.node.get_memory_stats(1.5)`:                             "test.lua:1: invalid unit '1.5' " + unit,
		`kong.node.get_memory_stats("x", 100)`:                        "test.lua:1: invalid unit 'x' " + unit,
		`kong.node.get_memory_stats("X", -1)`:                         "test.lua:1: scale must be equal or greater than 0",
		`kong.node.get_memory_stats("k", -1)`:                         "test.lua:1: scale must be equal or greater than 0",
		`kong.node.get_memory_stats("k", -0.5)`:                       "test.lua:1: scale must be equal or greater than 0",
		`kong.node.get_memory_stats("m", "2")`:                        "test.lua:1: scale must be equal or greater than 0",
		`kong.node.get_memory_stats("g", {})`:                         "test.lua:1: scale must be equal or greater than 0",
		`kong.node.get_memory_stats("g", true)`:                       "test.lua:1: scale must be equal or greater than 0",
		`kong.node.get_memory_stats({})`:                              "test.lua:1: bad argument #1 to 'lower' (string expected, got table)",
		`kong.node.get_memory_stats(true)`:                            "test.lua:1: bad argument #1 to 'lower' (string expected, got boolean)",
		`kong.node.get_memory_stats(print, -1)`:                       "test.lua:1: bad argument #1 to 'lower' (string expected, got function)",
		`kong.node.get_memory_stats("k", 100)`:                        "test.lua:1: invalid option '%.100' to 'format'",
		`kong.node.get_memory_stats("k", 123.9)`:                      "test.lua:1: invalid option '%.123' to 'format'",
		`kong.node.get_memory_stats("k", 0/0)`:                        "test.lua:1: invalid option '%.-' to 'format'",
		`kong.node.get_memory_stats("k", math.huge)`:                  "test.lua:1: invalid option '%.-' to 'format'",
		`error(select(2, pcall(kong.node.get_memory_stats, "x")), 0)`: "invalid unit 'x' " + unit,
	}
	for src, want := range errs {
		if got := luaErr(t, in, src); got != want {
			t.Errorf("%s raised %q, want %q", src, got, want)
		}
	}
}
