package luavm

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Protector runs protected calls in one Lua state (and its coroutines) with
// Lua 5.1's upvalue semantics: when an error is caught, the upvalues of the
// frames it unwound are closed, those of the frames still live stay open.
// One Protector serves a main state; it is not safe for concurrent use, as
// the state itself is not.
type Protector struct {
	frames []pframe
	onErr  *lua.LFunction
}

// pframe is one protected call in progress.
type pframe struct {
	thread  *lua.LState // the state (or coroutine) the call runs in
	base    int         // absolute stack index of the called function
	handler lua.LValue  // xpcall's message handler (nil: none)
	trace   bool        // keep a traceback of where the error was raised
	tb      string
}

const registryKey = "luavm.protector"

// protectorOf returns the Protector installed in L's global state, or nil.
func protectorOf(L *lua.LState) *Protector {
	if ud, ok := L.G.Registry.RawGetString(registryKey).(*lua.LUserData); ok {
		if p, ok := ud.Value.(*Protector); ok {
			return p
		}
	}
	return nil
}

// install creates L's Protector and records it in L's registry.
func install(L *lua.LState) *Protector {
	if p := protectorOf(L); p != nil {
		return p
	}
	p := &Protector{frames: make([]pframe, 0, 8)}
	p.onErr = L.NewFunction(p.onError)
	ud := L.NewUserData()
	ud.Value = p
	L.G.Registry.RawSetString(registryKey, ud)
	setErrorFuncFlag(L)
	return p
}

// PCall calls the function below the nargs arguments on L's stack, as
// lua.LState.PCall does, but keeps the upvalues of live frames open when an
// error is caught. With trace, the returned *lua.ApiError carries a
// traceback of where the error was raised (StackTrace).
func PCall(L *lua.LState, nargs, nret int, trace bool) error {
	p := protectorOf(L)
	if p == nil {
		p = install(L)
	}
	return p.call(L, nargs, nret, nil, trace)
}

// PCall is the package's PCall for a state whose Protector the caller
// keeps (it saves the registry look-up): L is p's state or one of its
// coroutines.
func (p *Protector) PCall(L *lua.LState, nargs, nret int, trace bool) error {
	return p.call(L, nargs, nret, nil, trace)
}

// call is PCall with an optional message handler (xpcall's).
func (p *Protector) call(L *lua.LState, nargs, nret int, handler lua.LValue, trace bool) (err error) {
	base := regTop(L) - nargs - 1
	if len(p.frames) == 0 {
		// The outermost protected call catches what escapes gopher-lua's
		// PCall: with the Lua stack full (unpack(t, 1, 1e9)), PCall cannot
		// push its error handler and its own recovery panics again, up to
		// here, leaving frames behind. The state is not reusable: the
		// error says so (*BrokenStateError) and the host replaces it.
		defer func() {
			if r := recover(); r != nil {
				p.frames = p.frames[:0]
				setRegTop(L, base)
				err = &BrokenStateError{Cause: fmt.Sprint(r)}
			}
		}()
	}
	p.frames = append(p.frames, pframe{thread: L, base: base, handler: handler, trace: trace})
	err = L.PCall(nargs, nret, p.onErr)
	fr := p.frames[len(p.frames)-1]
	p.frames[len(p.frames)-1] = pframe{}
	p.frames = p.frames[:len(p.frames)-1]
	// gopher-lua clears the flag when a protected call returns; errors
	// raised from here on must not close the live frames' upvalues either.
	setErrorFuncFlag(L)
	if err != nil && fr.trace {
		if ae, ok := err.(*lua.ApiError); ok {
			ae.StackTrace = fr.tb
		}
	}
	return err
}

// onError is the error function of every protected call: it runs where the
// error was raised, before gopher-lua unwinds the stack. It runs xpcall's
// handler there (as Lua 5.1 does), then closes the upvalues of the frames
// being unwound while their registers still hold their values.
func (p *Protector) onError(L *lua.LState) int {
	setErrorFuncFlag(L)
	i := len(p.frames) - 1
	obj := luaErrorText(L, L.Get(1), 1)
	if p.frames[i].trace {
		// level 1: leave out this function's own frame
		p.frames[i].tb = Traceback(L, 1)
	}
	if _, unwind := isUnwinding(obj); unwind {
		// an Unwind is not an error: xpcall's handler does not see it
	} else if h := p.frames[i].handler; h != nil {
		L.Push(h)
		L.Push(obj)
		if err := p.call(L, 1, 1, nil, false); err != nil {
			// Lua 5.1 gives up on a handler that fails (LUA_ERRERR).
			obj = lua.LString("error in error handling")
		} else {
			obj = L.Get(-1)
			L.Pop(1)
		}
	}
	closeUpvalues(L, p.frames[i].base)
	L.Push(obj)
	return 1
}

// BrokenStateError is a protected call whose error could not be handled
// inside gopher-lua (the Lua stack was full): the call failed and the state
// must not run anything else.
type BrokenStateError struct {
	Cause string
}

func (e *BrokenStateError) Error() string {
	return "stack overflow (" + e.Cause + "); the Lua state cannot be used any more"
}

// errorObject is the value a failed call raised.
func errorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// stopped reports whether L's context is done: the host's deadline fired.
// A deadline is not an error Lua code may catch: pcall re-raises it, so a
// plugin cannot swallow its own timeout.
func stopped(L *lua.LState) bool {
	ctx := L.Context()
	return ctx != nil && ctx.Err() != nil
}

// basePCall is Lua's pcall(f, ...).
func (p *Protector) basePCall(L *lua.LState) int {
	checkAny(L, 1)
	v := L.Get(1)
	if v.Type() != lua.LTFunction && L.GetMetaField(v, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	if err := p.call(L, L.GetTop()-1, lua.MultRet, nil, false); err != nil {
		return failed(L, err)
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// failed pushes pcall's false, err — or re-raises a fired deadline or an
// Unwind.
func failed(L *lua.LState, err error) int {
	obj := errorObject(err)
	if _, unwind := isUnwinding(obj); unwind || stopped(L) {
		L.Error(obj, 0)
	}
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// baseXPCall is Lua 5.1's xpcall(f, handler): no extra arguments for f.
func (p *Protector) baseXPCall(L *lua.LState) int {
	handler := checkAny(L, 2) // Lua 5.1 checks the handler first
	fn := L.Get(1)
	L.SetTop(2)
	L.Push(fn)
	if err := p.call(L, 0, lua.MultRet, handler, false); err != nil {
		return failed(L, err)
	}
	L.Insert(lua.LTrue, 3)
	return L.GetTop() - 2
}

// CallProtected calls fn(args...) protected, as lua.LState.CallByParam
// with Protect does, leaving nret results on the stack on success.
func CallProtected(L *lua.LState, fn lua.LValue, nret int, trace bool, args ...lua.LValue) error {
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	return PCall(L, len(args), nret, trace)
}

// coYield is coroutine.yield, refusing to yield across a protected call
// of the same coroutine as Lua 5.1 does: gopher-lua would yield out of the
// Go call and crash on the next resume.
func (p *Protector) coYield(L *lua.LState) int {
	if L.Parent == nil {
		// the main state is no coroutine: Lua 5.1's message for it
		L.Error(lua.LString("attempt to yield across metamethod/C-call boundary"), 0)
	}
	for i := len(p.frames) - 1; i >= 0; i-- {
		if p.frames[i].thread == L {
			L.Error(lua.LString("attempt to yield across metamethod/C-call boundary"), 0)
		}
	}
	return -1 // gopher-lua's signal: yield the values on the stack
}
