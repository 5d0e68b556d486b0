package pdk

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// The memory budget itself (what it is for, how bindings charge it) is
// bind.Budget; here is where a worker's comes from.

// DefaultMemoryBudget is lua_memory_budget's default (bytes).
const DefaultMemoryBudget = bind.DefaultMemoryBudget

// ErrNoMemory is the message of an allocation refused by the budget: Lua's
// own out-of-memory error message.
const ErrNoMemory = bind.ErrNoMemory

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

// Budget is the worker's memory budget, which bindings charge before an
// allocation sized by a Lua argument.
func (in *Instance) Budget() *bind.Budget { return in.budget }

// ResetBudget starts a new top-level call: nothing charged yet.
func (in *Instance) ResetBudget() { in.budget.Reset() }

// Reserve charges n bytes (count elements of size bytes each) to the
// worker's budget, raising "not enough memory" when they do not fit.
// Bindings call it before an allocation sized by a Lua argument.
func (in *Instance) Reserve(L *lua.LState, count, size int64) {
	in.budget.Reserve(L, count, size)
}
