package bind

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
// (pdk's Instance.ResetBudget). Allocations below budgetGrain are not
// counted: they cannot add up to much in one call's deadline and counting
// them would cost on the request path.

// DefaultMemoryBudget is lua_memory_budget's default (bytes).
const DefaultMemoryBudget = 256 << 20

// budgetGrain is the smallest allocation charged to the budget.
const budgetGrain = 64 << 10

// ErrNoMemory is the message of an allocation refused by the budget: Lua's
// own out-of-memory error message.
const ErrNoMemory = "not enough memory"

// Budget is one worker's memory budget for the current top-level call.
// A nil *Budget refuses nothing and offers DefaultMemoryBudget.
type Budget struct {
	limit   func() int64 // bytes per top-level call
	charged int64        // bytes charged in this call
}

// NewBudget returns a budget of limit() bytes per top-level call; limit is
// asked on every check, so it may be computed lazily (pdk's
// Root.MemoryBudget).
func NewBudget(limit func() int64) *Budget { return &Budget{limit: limit} }

// Reset starts a new top-level call: nothing charged yet.
func (b *Budget) Reset() {
	if b != nil {
		b.charged = 0
	}
}

// Left is what remains to charge in this call, in bytes.
func (b *Budget) Left() int64 {
	if b == nil {
		return DefaultMemoryBudget
	}
	return b.limit() - b.charged
}

// Fits reports whether n more bytes fit in the budget, charging them when
// they do. A negative or NaN-born size never fits.
func (b *Budget) Fits(n int64) bool {
	if b == nil {
		return true
	}
	if n < 0 {
		return false
	}
	if n < budgetGrain {
		return true
	}
	if n > b.limit()-b.charged {
		return false
	}
	b.charged += n
	return true
}

// Reserve charges n bytes (count elements of size bytes each) to the
// budget, raising "not enough memory" when they do not fit. Bindings call
// it before an allocation sized by a Lua argument.
func (b *Budget) Reserve(L *lua.LState, count, size int64) {
	if !b.Fits(MulSize(count, size)) {
		L.RaiseError(ErrNoMemory)
	}
}

// NewTable is L.CreateTable(narr, nrec) charged to the budget; negative
// sizes are 0, as LuaJIT's table.new treats them.
func (b *Budget) NewTable(L *lua.LState, narr, nrec int64) *lua.LTable {
	narr, nrec = max(narr, 0), max(nrec, 0)
	if !b.Fits(tableBytes(narr, nrec)) {
		L.RaiseError(ErrNoMemory)
	}
	return L.CreateTable(int(narr), int(nrec))
}

// MulSize is count*size, or -1 when negative or overflowing.
func MulSize(count, size int64) int64 {
	if count < 0 || size < 0 {
		return -1
	}
	if size != 0 && count > math.MaxInt64/size {
		return -1
	}
	return count * size
}

// tableBytes is what a table of narr array slots and nrec hash slots
// costs, roughly (an LValue interface is 16 bytes; a map slot about 40).
func tableBytes(narr, nrec int64) int64 {
	a, h := MulSize(narr, 16), MulSize(nrec, 40)
	if a < 0 || h < 0 || a > math.MaxInt64-h {
		return -1
	}
	return a + h
}
