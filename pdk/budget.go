package pdk

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The memory budget: what the host allocates for Lua on request (a table
// preallocated by table.new, random bytes, a JSON text, a shared-dict
// value) is sized by Lua arguments, and a size such as 1e12 would end the
// whole process with Go's "fatal error: out of memory", which no recover
// catches. Every binding that allocates by a Lua-given size asks its
// worker's budget first; past it, the call raises Lua's own "not enough
// memory" (what PUC Lua and LuaJIT raise when an allocation fails), which
// costs the request, not the process.
//
// The budget is per worker and per top-level call (a phase handler, a
// timer, a cache callback run by the host): bindings charge what they
// allocate, the host resets the count when it starts a call
// (ResetBudget). Allocations below budgetGrain are not counted: they
// cannot add up to much in one call's deadline and counting them would
// cost on the request path.

// DefaultMemoryBudget is lua_memory_budget's default (bytes).
const DefaultMemoryBudget = 256 << 20

// budgetGrain is the smallest allocation charged to the budget.
const budgetGrain = 64 << 10

// ErrNoMemory is the message of an allocation refused by the budget: Lua's
// own out-of-memory error message.
const ErrNoMemory = "not enough memory"

// MemoryBudget is the per-worker budget in bytes: Root.Budget when set,
// else kong.conf's lua_memory_budget, else DefaultMemoryBudget.
func (r *Root) MemoryBudget() int64 {
	r.budgetOnce.Do(func() {
		switch {
		case r.Budget > 0:
			r.budget = r.Budget
		case r.Conf != nil:
			r.budget = int64(r.Conf.Size("lua_memory_budget", DefaultMemoryBudget))
		}
		if r.budget <= 0 {
			r.budget = DefaultMemoryBudget
		}
	})
	return r.budget
}

// ResetBudget starts a new top-level call: nothing charged yet.
func (in *Instance) ResetBudget() { in.charged = 0 }

// fits reports whether n more bytes fit in the worker's budget, charging
// them when they do. A negative or NaN-born size never fits.
func (in *Instance) fits(n int64) bool {
	if n < 0 {
		return false
	}
	if n < budgetGrain {
		return true
	}
	if n > in.Root.MemoryBudget()-in.charged {
		return false
	}
	in.charged += n
	return true
}

// Reserve charges n bytes (count elements of size bytes each) to the
// worker's budget, raising "not enough memory" when they do not fit.
// Bindings call it before an allocation sized by a Lua argument.
func (in *Instance) Reserve(L *lua.LState, count, size int64) {
	if !in.fits(mulSize(count, size)) {
		L.RaiseError(ErrNoMemory)
	}
}

// mulSize is count*size, or -1 when negative or overflowing.
func mulSize(count, size int64) int64 {
	if count < 0 || size < 0 {
		return -1
	}
	if size != 0 && count > math.MaxInt64/size {
		return -1
	}
	return count * size
}

// sizeArg is argument n as an allocation count: nil (or none) is def; a
// number is truncated toward zero and clamped to int64 (NaN is
// math.MinInt64: no valid size). Non-numbers raise as CheckInt.
func sizeArg(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return clampSize(float64(L.CheckNumber(n)))
}

func clampSize(f float64) int64 {
	switch {
	case f != f || f <= math.MinInt64:
		return math.MinInt64
	case f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(f)
}

// tableBytes is what a table of narr array slots and nrec hash slots
// costs, roughly (an LValue interface is 16 bytes; a map slot about 40).
func tableBytes(narr, nrec int64) int64 {
	a, h := mulSize(narr, 16), mulSize(nrec, 40)
	if a < 0 || h < 0 || a > math.MaxInt64-h {
		return -1
	}
	return a + h
}

// newTableSized is L.CreateTable(narr, nrec) charged to the budget;
// negative sizes are 0, as LuaJIT's table.new treats them.
func (in *Instance) newTableSized(L *lua.LState, narr, nrec int64) *lua.LTable {
	narr, nrec = max(narr, 0), max(nrec, 0)
	if !in.fits(tableBytes(narr, nrec)) {
		L.RaiseError(ErrNoMemory)
	}
	return L.CreateTable(int(narr), int(nrec))
}
