package ngx

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// Threads is one state's ngx.thread: lua-nginx-module's user "light
// threads" (ngx_http_lua_uthread.c), coroutines run by the worker.
//
// ngx_lua runs a light thread at spawn until it ends or yields, on I/O or
// on coroutine.yield; the other threads run while it waits. In luahost a
// cosocket and ngx.sleep block the worker instead of yielding (gopher-lua
// cannot suspend a state on Go I/O), so a thread runs at spawn until it
// ends or calls coroutine.yield, which makes it pending (its arguments are
// dropped, and the yield returns nothing when the thread resumes, as in
// ngx_lua). Pending threads run, first yielded first resumed, while a
// parent waits in ngx.thread.wait and, as ngx_lua's handler does not end
// before all its threads end, when the host call that spawned them
// returns (Leave). A thread waiting in ngx.thread.wait holds its parent
// until its wait is answered (ngx_lua would run the parent meanwhile).
type Threads struct {
	// Phase is ngx.get_phase()'s answer, for the context checks.
	Phase func() string
	// Log writes an error-level line: "lua user thread aborted: ...".
	Log func(msg string)

	create, resume lua.LValue // coroutine.create and resume, as opened
	threads        map[*lua.LState]*uthread
	queue          []*uthread // pending threads, in the order they yielded
	entries        []int      // the host calls in progress (Enter), innermost last
	seq            int
}

// uthread is one light thread.
type uthread struct {
	co     *lua.LState
	parent *lua.LState // the coroutine (or main state) that spawned it
	entry  int         // the host call it was spawned in
	status threadStatus
	// results once ended: coroutine.resume's (true, values... or false, err)
	results []lua.LValue
}

type threadStatus int

const (
	threadRunning threadStatus = iota // running, or holding the worker in a wait of its own
	threadPending                     // yielded, in the queue
	threadZombie                      // ended, results kept for wait
	threadDead                        // waited on or killed
)

// NewThreads returns L's ngx.thread scheduler; it reads coroutine.create
// and coroutine.resume from L's globals, so open it after the base
// libraries.
func NewThreads(L *lua.LState, phase func() string, log func(string)) *Threads {
	co, _ := L.GetGlobal("coroutine").(*lua.LTable)
	t := &Threads{Phase: phase, Log: log, threads: map[*lua.LState]*uthread{}}
	if co != nil {
		t.create, t.resume = co.RawGetString("create"), co.RawGetString("resume")
	}
	return t
}

// Table returns the ngx.thread table: spawn, wait and kill.
func (t *Threads) Table(L *lua.LState) *lua.LTable {
	tb := L.NewTable()
	tb.RawSetString("spawn", L.NewFunction(t.spawn))
	tb.RawSetString("wait", L.NewFunction(t.wait))
	tb.RawSetString("kill", L.NewFunction(t.kill))
	return tb
}

// Enter marks the start of a host call (a phase handler, a timer, a spec
// block): the threads spawned until the matching Leave are its own.
func (t *Threads) Enter() {
	t.seq++
	t.entries = append(t.entries, t.seq)
}

// Leave ends the host call Enter began. With finish (the call returned
// normally), its pending threads run to their end first, as ngx_lua ends
// a handler only once all its threads have; without (the call failed, or
// was stopped by its deadline) they are dropped, as ngx_lua kills the
// threads of a handler that aborted. Either way the call's threads are
// forgotten.
func (t *Threads) Leave(L *lua.LState, finish bool) {
	if len(t.threads) > 0 {
		t.end(L, t.current(), finish)
	}
	if n := len(t.entries); n > 0 {
		t.entries = t.entries[:n-1]
	}
}

// end runs (with finish) the pending threads of host call entry, then
// forgets all its threads.
func (t *Threads) end(L *lua.LState, entry int, finish bool) {
	for finish && !stopped(L) {
		u := t.next(func(u *uthread) bool { return u.entry == entry })
		if u == nil {
			break
		}
		t.run(L, u, nil, false)
	}
	for co, u := range t.threads {
		if u.entry == entry {
			delete(t.threads, co)
		}
	}
	t.dequeue(func(u *uthread) bool { return u.entry == entry })
}

// current is the host call running now (0 outside any Enter).
func (t *Threads) current() int {
	if n := len(t.entries); n > 0 {
		return t.entries[n-1]
	}
	return 0
}

// next takes the first pending thread that pick selects off the queue.
func (t *Threads) next(pick func(*uthread) bool) *uthread {
	for i, u := range t.queue {
		if pick(u) {
			t.queue = append(t.queue[:i], t.queue[i+1:]...)
			return u
		}
	}
	return nil
}

// dequeue removes the queued threads drop selects.
func (t *Threads) dequeue(drop func(*uthread) bool) {
	q := t.queue[:0]
	for _, u := range t.queue {
		if !drop(u) {
			q = append(q, u)
		}
	}
	clear(t.queue[len(q):])
	t.queue = q
}

func stopped(L *lua.LState) bool {
	ctx := L.Context()
	return ctx != nil && ctx.Err() != nil
}

// run resumes u (with args at its start) until it ends or yields. A
// thread that fails is logged, as ngx_lua logs it, and keeps its error for
// wait. With raise, ngx.exit inside the thread (an Unwind) and a fired
// deadline are raised in L, ending the parent too, as they end ngx_lua's
// whole handler; without, run just returns.
func (t *Threads) run(L *lua.LState, u *uthread, args []lua.LValue, raise bool) {
	u.status = threadRunning
	top := L.GetTop()
	L.Push(t.resume)
	L.Push(u.co)
	for _, a := range args {
		L.Push(a)
	}
	var err error
	if raise {
		L.Call(1+len(args), lua.MultRet)
	} else {
		err = luavm.PCall(L, 1+len(args), lua.MultRet, false)
	}
	if err != nil {
		u.status, u.results = threadZombie, []lua.LValue{lua.LFalse, lua.LString(err.Error())}
		L.SetTop(top)
		return
	}
	ok := lua.LVAsBool(L.Get(top + 1))
	if ok && L.Status(u.co) == "suspended" {
		// coroutine.yield: the values it yielded are dropped
		L.SetTop(top)
		u.status = threadPending
		t.queue = append(t.queue, u)
		return
	}
	res := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		res = append(res, L.Get(i))
	}
	L.SetTop(top)
	u.status, u.results = threadZombie, res
	if ok {
		return
	}
	var obj lua.LValue = lua.LNil
	if len(res) > 1 {
		obj = res[1]
	}
	if _, unwound := luavm.UnwoundWith(&lua.ApiError{Object: obj}); unwound || stopped(L) {
		u.status = threadDead
		if raise {
			L.Error(obj, 0)
		}
		return
	}
	msg := "unknown reason"
	if s, ok := obj.(lua.LString); ok {
		msg = string(s)
	} else if n, ok := obj.(lua.LNumber); ok {
		msg = luavm.FormatNumber(float64(n))
	}
	if t.Log != nil {
		t.Log("lua user thread aborted: runtime error: " + msg)
	}
}

// spawn is ngx.thread.spawn(func, ...): a new light thread running
// func(...) at once; it returns the thread (a coroutine).
func (t *Threads) spawn(L *lua.LState) int {
	if f, ok := L.Get(1).(*lua.LFunction); !ok || f.IsG {
		bind.ArgError(L, 1, "spawn", "Lua function expected")
	}
	bind.CheckContext(L, t.Phase(), bind.Yieldable)
	L.Push(t.create)
	L.Push(L.Get(1))
	L.Call(1, 1)
	co := L.Get(-1).(*lua.LState)
	L.Pop(1)
	u := &uthread{co: co, parent: L, entry: t.current()}
	t.threads[co] = u
	args := make([]lua.LValue, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	t.run(L, u, args, true)
	L.Push(co)
	return 1
}

// child is argument n of wait or kill as a light thread of L's (nil and
// ngx_lua's error when it is not one).
func (t *Threads) child(L *lua.LState, n int, fname string) (*uthread, string) {
	co, ok := L.Get(n).(*lua.LState)
	if !ok {
		bind.ArgError(L, n, fname, "lua thread expected")
	}
	u := t.threads[co]
	if u == nil {
		return nil, "not user thread"
	}
	if u.parent != L {
		return u, "not parent"
	}
	return u, ""
}

// wait is ngx.thread.wait(t1, t2, ...): the results of the first of the
// threads to end, ngx_lua's order: a thread already ended answers at once,
// the first of them in argument order; otherwise pending threads run until
// one of these ends. Every argument must be a light thread of the caller.
func (t *Threads) wait(L *lua.LState) int {
	bind.CheckContext(L, t.Phase(), bind.Yieldable)
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("at least one coroutine should be specified")
	}
	waited := make(map[*uthread]bool, n)
	for i := 1; i <= n; i++ {
		u, e := t.child(L, i, "wait")
		switch e {
		case "not user thread":
			L.RaiseError("attempt to wait on a coroutine that is not a user thread")
		case "not parent":
			L.RaiseError("only the parent coroutine can wait on the thread")
		}
		switch u.status {
		case threadZombie:
			return t.reap(L, u)
		case threadDead:
			if i == n {
				return bind.Fail(L, "already waited or killed")
			}
			continue
		}
		waited[u] = true
	}
	// the pending threads of this host call run, and a waited thread of
	// an enclosing one (the main state is the parent of both calls' threads)
	cur := t.current()
	pick := func(u *uthread) bool { return u.entry == cur || waited[u] }
	for {
		u := t.next(pick)
		if u == nil {
			// cannot happen: a waited thread not ended is pending
			L.RaiseError("no light thread left to run")
		}
		t.run(L, u, nil, true)
		if waited[u] && u.status == threadZombie {
			return t.reap(L, u)
		}
	}
}

// reap returns the results of the ended thread u, which is then dead.
func (t *Threads) reap(L *lua.LState, u *uthread) int {
	u.status = threadDead
	for _, v := range u.results {
		L.Push(v)
	}
	n := len(u.results)
	u.results = nil
	return n
}

// kill is ngx.thread.kill(t): a thread not yet ended is dropped (1);
// otherwise nil and ngx_lua's reason.
func (t *Threads) kill(L *lua.LState) int {
	bind.CheckContext(L, t.Phase(), bind.Yieldable)
	u, e := t.child(L, 1, "kill")
	switch e {
	case "not user thread":
		return bind.Fail(L, "not user thread")
	case "not parent":
		return bind.Fail(L, "killer not parent")
	}
	switch u.status {
	case threadZombie:
		u.status, u.results = threadDead, nil
		return bind.Fail(L, "already terminated")
	case threadDead:
		return bind.Fail(L, "already waited or killed")
	}
	u.status = threadDead
	t.dequeue(func(q *uthread) bool { return q == u })
	L.Push(lua.LNumber(1))
	return 1
}
