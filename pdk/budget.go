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

// SwitchCosockets makes s the context whose cosockets (ngx.socket.tcp,
// ngx.socket.udp, resty.redis) the worker's code now connects, and
// returns the previous one; nil is the worker's own context (init_worker,
// worker events), whose sockets are not tracked. pdk/request switches to
// a request's around each of its phases and ends it with the request;
// ngx.timer does the same around a callback.
func (in *Instance) SwitchCosockets(s *bind.Cosockets) (prev *bind.Cosockets) {
	return in.sockets.Switch(s)
}

// Cosockets is the worker's current context (for the Go libraries that
// open cosockets: resty.redis).
func (in *Instance) Cosockets() *bind.CosocketOwner { return &in.sockets }

// Reserve charges n bytes (count elements of size bytes each) to the
// worker's budget, raising "not enough memory" when they do not fit.
// Bindings call it before an allocation sized by a Lua argument.
func (in *Instance) Reserve(L *lua.LState, count, size int64) {
	in.budget.Reserve(L, count, size)
}
