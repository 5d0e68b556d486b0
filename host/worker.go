package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/request"
)

// Worker is one Lua state with every enabled plugin loaded and init_worker
// run. It is a mutually exclusive executor: whoever holds busy owns the
// state. A request is pinned to one worker for its whole life (its Lua
// objects, ngx.ctx and what kong.ctx keeps in it, stay in this state) and
// holds busy only while one of its phases runs (Pool.attach, Runloop).
type Worker struct {
	ID int
	L  *lua.LState
	In *pdk.Instance
	// prot runs the worker's protected calls (luavm: Lua 5.1 upvalues).
	prot *luavm.Protector
	host *Host

	plugins []*loadedPlugin // by priority, highest first
	byName  map[string]*loadedPlugin

	// funcs maps a schema.Func reference to this state's Lua function, so
	// validators defined in Lua run in the calling worker.
	funcs map[string]lua.LValue

	// pluginModules are the modules loading the plugins added to
	// package.loaded (a spec file's state forgets them: forgetPluginModules).
	pluginModules []string

	// req binds the request PDK to the request being served; iter is the
	// plugin iterator the worker last served with, confs its
	// configurations as Lua tables (by PluginConfig.Index).
	req   *request.State
	iter  *Iterator
	confs []*lua.LTable

	dl       *deadline
	timeout  time.Duration
	nesting  int // protected calls in progress (a binding calling back into Lua)
	poisoned bool

	// busy is held while a phase of a request pinned to the worker runs,
	// while a borrower (Pool.Acquire) has it, and by the idle drainer
	// while it delivers events: whoever holds it owns the LState.
	busy     sync.Mutex
	stopIdle chan struct{}
	pool     *Pool
	// attached counts the requests pinned to the worker and its borrower
	// (changed with busy held); retired: out of the pool, the state is
	// closed once attached is 0; closed: it was (busy held).
	attached atomic.Int32
	retired  atomic.Bool
	closed   bool
}

// loadedPlugin is a plugin as loaded in one worker.
type loadedPlugin struct {
	desc     *Plugin
	handler  *lua.LTable
	phaseFns map[string]*lua.LFunction
	// fns are the request phases' handlers by phase index (nil: not
	// implemented); configure the configure handler.
	fns       [nPhases]*lua.LFunction
	configure *lua.LFunction
}

// TimeoutError is a Lua call stopped by its deadline.
type TimeoutError struct {
	Timeout time.Duration
	Err     error // the error raised where the code was stopped (it has file:line)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("execution stopped: it ran longer than its %s deadline (lua_timeout)", e.Timeout)
}

// call runs fn(args...) under the worker's deadline, leaving nret results
// on the stack. A Lua error comes back as *lua.ApiError; a deadline as
// *TimeoutError (and the worker is marked poisoned, to be replaced).
func (w *Worker) call(fn lua.LValue, nret int, args ...lua.LValue) error {
	return w.protectedCall(fn, nret, false, args)
}

// callTraced is call keeping a traceback of where an error was raised in
// the returned *lua.ApiError (StackTrace).
func (w *Worker) callTraced(fn lua.LValue, nret int, args ...lua.LValue) error {
	return w.protectedCall(fn, nret, true, args)
}

func (w *Worker) protectedCall(fn lua.LValue, nret int, trace bool, args []lua.LValue) error {
	// A call made from inside another (a timer run by a binding) lives
	// under the outer call's deadline and budget: re-arming would extend
	// the deadline and disarming would leave the rest of the outer call
	// with none.
	outer := w.nesting == 0
	if outer {
		if ctx, changed := w.dl.renew(); changed {
			luavm.SetContext(w.L, ctx)
		}
		w.In.ResetBudget()
	}
	L := w.L
	base := L.GetTop()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if outer {
		w.dl.arm(w.timeout)
	}
	w.nesting++
	w.In.EnterThreads()
	err := w.prot.PCall(L, len(args), nret, trace)
	// the handler ends once its light threads have (ngx.thread)
	w.In.LeaveThreads(err == nil)
	w.nesting--
	if err != nil {
		// (only on failure: the target of errors.As escapes, and the
		// request path calls this several times per request)
		var broken *luavm.BrokenStateError
		if errors.As(err, &broken) {
			// gopher-lua could not unwind: the state is replaced
			w.poisoned = true
		}
	}
	fired := w.dl.fired.Load()
	if outer {
		fired = w.dl.disarm()
	}
	if fired {
		// Also when the call returned normally: the deadline stopped work
		// done for it (a cache callback, a DB query) whose error the code
		// then returned as a value, with nothing left to run after it.
		w.poisoned = true
		L.SetTop(base)
		if err == nil {
			err = errors.New("the deadline stopped a call the code made and it returned normally")
		}
		return &TimeoutError{Timeout: w.timeout, Err: err}
	}
	return err
}

// errorOf turns a failed call into a LoadError naming plugin, phase, file
// and line.
func (w *Worker) errorOf(plugin, phase string, err error) *LoadError {
	le := &LoadError{Plugin: plugin, Phase: phase, Err: err}
	msg := err.Error()
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		msg = ae.Object.String()
	}
	le.File, le.Line, le.Msg = locate(msg, plugin)
	var te *TimeoutError
	if errors.As(err, &te) {
		le.Msg = te.Error()
		if fn := w.host.onDeadlineStop; fn != nil {
			fn(plugin, phase)
		}
	}
	if le.File != "" {
		le.Path = w.host.pathOf(le.File)
		// The message already starts with file:line; keep only the rest.
		prefix := fmt.Sprintf("%s:%d:", le.File, le.Line)
		if i := strings.Index(le.Msg, prefix); i >= 0 {
			le.Msg = strings.TrimSpace(le.Msg[:i] + le.Msg[i+len(prefix):])
		}
	}
	return le
}

// CallFunc runs a Lua function referenced by a schema (custom_validator,
// entity check, transformation) in this worker: schema.FuncRunner.
func (w *Worker) CallFunc(_ context.Context, fn *schema.Func, args ...any) ([]any, error) {
	if fn.Go != nil {
		return fn.Go(args...), nil
	}
	if nv := schema.BuiltinValidatorFor(fn); nv != nil {
		var v any
		if len(args) > 0 {
			v = args[0]
		}
		if ok, msg := nv(v); !ok {
			return []any{nil, msg}, nil
		}
		return []any{true}, nil
	}
	lf, ok := w.funcs[fn.Ref]
	if !ok {
		return nil, fmt.Errorf("no Lua function %s in worker %d", fn.Ref, w.ID)
	}
	L := w.L
	top := L.GetTop()
	largs := make([]lua.LValue, len(args))
	for i, a := range args {
		largs[i] = pdk.FromValue(L, a, w.resolveFunc)
	}
	if err := w.call(lf, lua.MultRet, largs...); err != nil {
		return nil, err
	}
	n := L.GetTop() - top
	out := make([]any, n)
	for i := 0; i < n; i++ {
		v, err := pdk.ToValue(L, L.Get(top+1+i), w.nameFunc(fn.Ref+".ret"))
		if err != nil {
			L.SetTop(top)
			return nil, err
		}
		out[i] = v
	}
	L.SetTop(top)
	return out, nil
}

func (w *Worker) resolveFunc(f *schema.Func) lua.LValue {
	if lf, ok := w.funcs[f.Ref]; ok {
		return lf
	}
	return lua.LNil
}

// nameFunc returns a FuncNamer that registers functions met under prefix.
func (w *Worker) nameFunc(prefix string) pdk.FuncNamer {
	return func(path string, fn lua.LValue) *schema.Func {
		ref := prefix + ":" + path
		if ud, ok := fn.(*lua.LUserData); ok {
			if f, ok := ud.Value.(*schema.Func); ok {
				return f
			}
		}
		w.funcs[ref] = fn
		return &schema.Func{Ref: ref}
	}
}

// Close releases the worker's state.
func (w *Worker) Close() {
	w.closed = true
	if w.stopIdle != nil {
		close(w.stopIdle)
		w.stopIdle = nil
	}
	dog.remove(w.dl)
	pdk.CloseEvents(w.In)
	pdk.CloseCache(w.In)
	w.L.Close()
}

// Poisoned reports whether the worker must be discarded.
func (w *Worker) Poisoned() bool { return w.poisoned }

// ctxHashCap sizes the hash part of a request's fresh ngx.ctx
// (luavm.NewSizedTable: the maps and the key list made once, at this
// size): the keys an auth plugin's request sets (KONG_PHASE, route,
// service, workspace, router_matches, plugin_id, authenticated_consumer
// and _credential) fit without growing. 8 because a Go map of up to 8
// entries is two allocations (its header and one group) and a larger one
// four: a request that goes on to later phases (KONG_PROXIED, ...) grows
// its maps once, an access-only one never. Lua cannot tell: pairs follows
// insertion order, not the map.
const ctxHashCap = 8

// reset drops a borrower's state before the worker goes back to the pool
// (the next one gets an ngx.ctx of its own).
func (w *Worker) reset() {
	w.L.SetTop(0)
	w.In.SetCtx(luavm.NewSizedTable(w.L, 0, ctxHashCap))
	w.In.Phase = "init"
	w.In.SetPluginName("")
}

// Plugins lists the worker's plugins' descriptions in execution order.
func (w *Worker) Plugins() []*Plugin {
	out := make([]*Plugin, len(w.plugins))
	for i, lp := range w.plugins {
		out[i] = lp.desc
	}
	return out
}

// Handler returns a plugin's handler table in this worker, or nil.
func (w *Worker) Handler(plugin string) *lua.LTable {
	if lp, ok := w.byName[plugin]; ok {
		return lp.handler
	}
	return nil
}

// RunPhase calls handler:<phase>(conf) of a plugin under the deadline. A
// failure is a *LoadError naming plugin, phase, file and line; a plugin
// that does not implement the phase is not an error.
func (w *Worker) RunPhase(plugin, phase string, conf lua.LValue) error {
	lp, ok := w.byName[plugin]
	if !ok {
		return fmt.Errorf("plugin '%s' is not loaded", plugin)
	}
	fn, ok := lp.phaseFns[phase]
	if !ok {
		return nil
	}
	w.In.Phase = phase
	w.In.SetPluginName(plugin)
	err := w.call(fn, 0, lp.handler, conf)
	w.In.SetPluginName("")
	if err != nil {
		return w.errorOf(plugin, phase, err)
	}
	return nil
}

// DoString runs a chunk of Lua in the worker under its deadline (tests,
// the REPL-like `luahost check`).
func (w *Worker) DoString(chunk, src string) error {
	proto, err := compileChunk(chunk, []byte(src))
	if err != nil {
		return err
	}
	return w.call(w.L.NewFunctionFromProto(proto), 0)
}

// drainIdle delivers worker events (crud callbacks of Admin API writes,
// cluster events) to the worker while it sits idle in the pool, so they do
// not wait for its next request. Invalidations of its L1 do not need it.
func (w *Worker) drainIdle() {
	inbox := pdk.Inbox(w.In)
	if inbox == nil {
		return
	}
	stop := make(chan struct{})
	w.stopIdle = stop
	ready := inbox.Ready()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-ready:
				if w.busy.TryLock() {
					select {
					case <-stop:
					default:
						// requests may be pinned to the worker: the
						// callbacks do not see their ngx.ctx
						w.In.SetCtx(w.L.NewTable())
						pdk.Drain(w.In)
					}
					if w.pool != nil {
						w.pool.unlock(w)
					} else {
						w.busy.Unlock()
					}
				}
			}
		}
	}()
}

// FuncRunner runs schema functions in a borrowed worker of the pool: the
// runner of DB calls made from Go outside any worker (the Admin API's, a
// spec's blueprints).
func (h *Host) FuncRunner() schema.FuncRunner { return poolRunner{h} }

type poolRunner struct{ h *Host }

func (p poolRunner) CallFunc(ctx context.Context, fn *schema.Func, args ...any) ([]any, error) {
	w, err := p.h.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer p.h.Pool.Release(w)
	return w.CallFunc(ctx, fn, args...)
}
