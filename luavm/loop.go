package luavm

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// A Lua call under a context. gopher-lua's SetContext makes the state run
// mainLoopWithContext, which polls the context's Done channel before every
// instruction (an interface call and a select each time: a seventh of a
// plugin handler's time in the request path's profile). SetContext here
// keeps the context in the state, as gopher-lua's does (L.Context(), and
// the coroutines it creates inherit it), but runs gopher-lua's plain
// mainLoop, and polls the context only at the instructions without which
// no code runs for long: backward and forward jumps (every loop of Lua 5.1
// ends in OP_JMP, OP_FORLOOP or OP_TFORLOOP), calls, tail calls and
// returns (recursion, and Lua functions called back from Go: table.sort's
// comparator, string.gsub's replacement). Straight-line code between two
// of them is a few hundred instructions at most, so a runaway loop is
// still stopped within one iteration of its loop, and the error raised is
// the one mainLoopWithContext raises (the context's Err()).
//
// Reached here: LState.mainLoop (func(*LState, *callFrame)) and LState.ctx
// (context.Context), by offset, checked by name and type at start-up; the
// VM's plain mainLoop, linked by name. When they are not where expected,
// SetContext is gopher-lua's (LoopInternals says why).

//go:linkname goMainLoop github.com/yuin/gopher-lua.mainLoop
func goMainLoop(L *lua.LState, baseframe unsafe.Pointer)

// polledOps are the instructions whose handlers poll the context first.
var polledOps = [...]int{lua.OP_JMP, lua.OP_FORLOOP, lua.OP_TFORLOOP, lua.OP_CALL, lua.OP_TAILCALL, lua.OP_RETURN}

var (
	offMainLoop uintptr
	offCtx      uintptr
	loopErr     error
	plainLoop   = goMainLoop // as a func value, stored in LState.mainLoop
)

func init() {
	loopErr = checkLoopInternals()
	if loopErr != nil || internalsErr != nil {
		return
	}
	for _, op := range polledOps {
		jumpTable[op] = polled(jumpTable[op])
	}
}

func checkLoopInternals() error {
	st := reflect.TypeOf(lua.LState{})
	ml, ok := st.FieldByName("mainLoop")
	if !ok || ml.Type.Kind() != reflect.Func || ml.Type.NumIn() != 2 || ml.Type.In(0) != reflect.TypeOf((*lua.LState)(nil)) ||
		ml.Type.In(1).Kind() != reflect.Pointer || ml.Type.NumOut() != 0 {
		return fmt.Errorf("luavm: gopher-lua's LState has no field mainLoop func(*LState, *callFrame) (upgraded?)")
	}
	c, ok := st.FieldByName("ctx")
	if !ok || c.Type != reflect.TypeOf((*context.Context)(nil)).Elem() {
		return fmt.Errorf("luavm: gopher-lua's LState has no context.Context field ctx (upgraded?)")
	}
	offMainLoop, offCtx = ml.Offset, c.Offset
	return nil
}

// LoopInternals reports whether SetContext runs the plain main loop with
// polled jumps and calls (nil), or why it is gopher-lua's SetContext.
func LoopInternals() error {
	if loopErr != nil {
		return loopErr
	}
	return internalsErr
}

// SetContext is L.SetContext(ctx) without polling ctx at every
// instruction (see above). ctx must be non-nil.
func SetContext(L *lua.LState, ctx context.Context) {
	L.SetContext(ctx)
	if LoopInternals() == nil {
		*(*func(*lua.LState, unsafe.Pointer))(unsafe.Add(unsafe.Pointer(L), offMainLoop)) = plainLoop
	}
}

func stateCtx(L *lua.LState) context.Context {
	return *(*context.Context)(unsafe.Add(unsafe.Pointer(L), offCtx))
}

// StopContext is a cancellable context whose cancellation the polled
// instructions notice with one atomic load, where any other context costs
// a call to Done and a channel poll each time (a tenth of a small plugin
// handler's time). Its Stop cancels it.
type StopContext struct {
	context.Context
	cancel  context.CancelFunc
	stopped atomic.Bool
}

// NewStopContext is a StopContext under parent (parent's cancellation is
// noticed as with any context: through Done, at the polled instructions
// of a call that runs when it happens, and by StopContext's Err).
func NewStopContext(parent context.Context) *StopContext {
	c := &StopContext{}
	c.Context, c.cancel = context.WithCancel(parent)
	if parent.Done() != nil {
		context.AfterFunc(c.Context, func() { c.stopped.Store(true) })
	}
	return c
}

// Stop cancels c.
func (c *StopContext) Stop() {
	c.cancel()
	c.stopped.Store(true)
}

// polled wraps an instruction's handler with mainLoopWithContext's check.
func polled(op instFunc) instFunc {
	return func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		if ctx := stateCtx(L); ctx != nil {
			if sc, ok := ctx.(*StopContext); ok {
				if sc.stopped.Load() {
					L.RaiseError("%s", sc.Err().Error())
					return 1
				}
				return op(L, inst, baseframe)
			}
			select {
			case <-ctx.Done():
				L.RaiseError("%s", ctx.Err().Error())
				return 1
			default:
			}
		}
		return op(L, inst, baseframe)
	}
}
