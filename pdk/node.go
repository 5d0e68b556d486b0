package pdk

import (
	"math"
	"os"
	"runtime/metrics"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// newKongNode is kong.node (Kong's kong/pdk/node.lua): get_id,
// get_hostname and get_memory_stats.
func (in *Instance) newKongNode() *lua.LTable {
	L := in.L
	node := L.CreateTable(0, 3)
	L.SetFuncs(node, map[string]lua.LGFunction{
		"get_id": func(L *lua.LState) int { L.Push(lua.LString(in.Root.NodeIDValue())); return 1 },
		"get_hostname": func(L *lua.LState) int {
			h, _ := os.Hostname()
			L.Push(lua.LString(h))
			return 1
		},
		"get_memory_stats": in.nodeMemoryStats,
	})
	return node
}

// luaHeapBytes is the Lua memory luahost can measure: the heap of the Go
// process that holds every worker's state, the figure collectgarbage
// ("count") reports (in KiB) in any worker. A variable for the tests.
var luaHeapBytes = func() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}

// nodeMemoryStats is kong.node.get_memory_stats([unit [, scale]]):
// lua_shared_dicts, each dict's capacity and allocated_slabs (capacity
// less free_space), and workers_lua_vms, one { pid, http_allocated_gc }
// per live worker state (Root.LiveWorkers). Kong's figure
// per worker is its own VM's collectgarbage("count"); luahost's states
// share one Go heap, so each gets an even share of it (the sum is the
// process's heap). unit and scale are checked and applied as Kong's
// bytes_to_str (bytesFormat).
func (in *Instance) nodeMemoryStats(L *lua.LState) int {
	unit, scale := L.Get(1), L.Get(2)
	if !lua.LVAsBool(unit) {
		unit = lua.LString("b")
	}
	if !lua.LVAsBool(scale) {
		scale = lua.LNumber(2)
	}
	conv, msg := newBytesFormat(unit, scale)
	if msg != "" {
		bind.RaiseAtCaller(L, msg)
	}

	n := 1 // the calling worker alone
	if in.Root.LiveWorkers != nil {
		n = len(in.Root.LiveWorkers())
	}
	// every worker answers the same ngx.worker.pid() and gets the same
	// share: Kong's sort by pid leaves them as they are
	pid := in.Root.WorkerPID()
	vms := L.CreateTable(n, 0)
	if n > 0 {
		share := luaHeapBytes() / float64(n)
		for range n {
			w := L.CreateTable(0, 2)
			w.RawSetString("pid", lua.LNumber(pid))
			w.RawSetString("http_allocated_gc", conv.value(share))
			vms.Append(w)
		}
	}

	dicts := in.Root.sharedDicts()
	shms := L.CreateTable(0, len(dicts))
	for name, d := range dicts {
		t := L.CreateTable(0, 2)
		t.RawSetString("capacity", conv.value(float64(d.Capacity)))
		t.RawSetString("allocated_slabs", conv.value(float64(d.Capacity-max(d.FreeSpace(), 0))))
		shms.RawSetString(name, t)
	}

	res := L.CreateTable(0, 2)
	res.RawSetString("workers_lua_vms", vms)
	res.RawSetString("lua_shared_dicts", shms)
	L.Push(res)
	return 1
}

// bytesFormat is how get_memory_stats writes a figure (Kong's
// convert_bytes): unit "b" (any case) a number of bytes, floored; unit ""
// bytes as a "%d" string; "k", "m", "g" the figure in KiB, MiB, GiB with
// scale decimals and the unit's suffix ("12.0 KiB").
type bytesFormat struct {
	number bool
	div    float64 // 0: "%d"
	prec   int
	suffix string
}

// newBytesFormat checks unit and scale as get_memory_stats does, by
// running Kong's bytes_to_str(0, unit, scale) (kong/tools/string.lua):
// unit read by string.lower (a string or a number); for "" and "b" the
// scale is not looked at; else a negative or non-number scale is refused
// before the unit is; the scale is then written into a "%.<scale>f"
// format by "%d" (LuaJIT truncates; NaN, inf and out-of-range values read
// as INT64_MIN, as on x86-64), which string.format refuses past two
// digits or with a sign. The message is Kong's, without the position in
// kong/tools/string.lua that LuaJIT adds to string.lower's and
// string.format's errors.
func newBytesFormat(unit, scale lua.LValue) (bytesFormat, string) {
	var shown string
	switch x := unit.(type) {
	case lua.LString:
		shown = string(x)
	case lua.LNumber:
		shown = luavm.FormatNumber(float64(x))
	default:
		return bytesFormat{}, "bad argument #1 to 'lower' (string expected, got " + unit.Type().String() + ")"
	}
	u := asciiLower(shown)
	switch u {
	case "":
		return bytesFormat{}, ""
	case "b":
		return bytesFormat{number: true}, ""
	}
	s, ok := scale.(lua.LNumber)
	if !ok || float64(s) < 0 {
		return bytesFormat{}, "scale must be equal or greater than 0"
	}
	var c bytesFormat
	switch u {
	case "k":
		c = bytesFormat{div: 1 << 10, suffix: " KiB"}
	case "m":
		c = bytesFormat{div: 1 << 20, suffix: " MiB"}
	case "g":
		c = bytesFormat{div: 1 << 30, suffix: " GiB"}
	default:
		return bytesFormat{}, "invalid unit '" + shown + "' (expected 'k/K', 'm/M', or 'g/G')"
	}
	k := luajitInt64(float64(s))
	if k < 0 {
		// "%.-9223372036854775808f": the format stops at the '-'
		return bytesFormat{}, "invalid option '%.-' to 'format'"
	}
	if d := strconv.FormatInt(k, 10); len(d) > 2 {
		return bytesFormat{}, "invalid option '%." + d[:3] + "' to 'format'"
	}
	c.prec = int(k)
	return c, ""
}

func (c bytesFormat) value(bytes float64) lua.LValue {
	switch {
	case c.number:
		return lua.LNumber(math.Floor(bytes))
	case c.div == 0:
		return lua.LString(strconv.FormatInt(luajitInt64(bytes), 10))
	}
	return lua.LString(strconv.FormatFloat(bytes/c.div, 'f', c.prec, 64) + c.suffix)
}

// luajitInt64 is C's (int64_t)n as LuaJIT's "%d" does it on x86-64:
// truncation, INT64_MIN for NaN and values out of range.
func luajitInt64(n float64) int64 {
	if n != n || n >= 1<<63 || n < -(1<<63) {
		return math.MinInt64
	}
	return int64(n)
}

// asciiLower is string.lower in the C locale.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CheckBytesFormat is get_memory_stats' check of its unit and scale
// (Kong's bytes_to_str(0, unit, scale)): "" when they are good, else the
// message (GET /status answers it with a 400).
func CheckBytesFormat(unit, scale lua.LValue) string {
	if !lua.LVAsBool(scale) {
		scale = lua.LNumber(2)
	}
	_, msg := newBytesFormat(unit, scale)
	return msg
}
