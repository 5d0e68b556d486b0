package luavm

import (
	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's coroutine.create, resume, wrap, yield and status checks and
// messages, around gopher-lua's coroutines.

func openCoroutineFixes(L *lua.LState, t *lua.LTable) {
	create, _ := t.RawGetString("create").(*lua.LFunction)
	resume, _ := t.RawGetString("resume").(*lua.LFunction)
	status, _ := t.RawGetString("status").(*lua.LFunction)
	if create == nil || resume == nil || status == nil {
		return
	}
	c := &coLib{create: create, resume: resume, status: status}
	c.myResume = L.NewFunction(c.coResume)
	t.RawSetString("create", L.NewFunction(c.coCreate))
	t.RawSetString("resume", c.myResume)
	t.RawSetString("wrap", L.NewFunction(c.coWrap))
	t.RawSetString("status", L.NewFunction(c.coStatus))
}

type coLib struct {
	create, resume, status *lua.LFunction
	myResume               *lua.LFunction
}

// coCreate is coroutine.create(f): f must be a Lua function.
func (c *coLib) coCreate(L *lua.LState) int {
	if f, ok := L.Get(1).(*lua.LFunction); !ok || f.IsG {
		argError(L, 1, "Lua function expected")
	}
	L.Push(c.create)
	L.Push(L.Get(1))
	L.Call(1, 1)
	return 1
}

func checkThread(L *lua.LState, n int) *lua.LState {
	th, ok := L.Get(n).(*lua.LState)
	if !ok {
		argError(L, n, "coroutine expected")
	}
	return th
}

// coResume is coroutine.resume(co, ...): only a suspended coroutine
// resumes.
func (c *coLib) coResume(L *lua.LState) int {
	th := checkThread(L, 1)
	if st := L.Status(th); st != "suspended" {
		L.Push(lua.LFalse)
		L.Push(lua.LString("cannot resume " + st + " coroutine"))
		return 2
	}
	top := L.GetTop()
	L.Push(c.resume)
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, lua.MultRet)
	return L.GetTop() - top
}

// coWrap is coroutine.wrap(f): a function resuming a new coroutine, which
// raises its errors (strings prefixed with the caller's position).
func (c *coLib) coWrap(L *lua.LState) int {
	c.coCreate(L)
	co := L.Get(-1)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		top := L.GetTop()
		L.Push(c.myResume)
		L.Push(co)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top+1, lua.MultRet)
		if !lua.LVAsBool(L.Get(top + 1)) {
			e := L.Get(top + 2)
			if isStringOrNumber(e) {
				e = lua.LString(where(L, 1) + asString(e))
			}
			L.Error(e, 0)
		}
		return L.GetTop() - top - 1
	}))
	return 1
}

// coYield is coroutine.yield(...): not from the main thread.

func (c *coLib) coStatus(L *lua.LState) int {
	th := checkThread(L, 1)
	L.Push(lua.LString(L.Status(th)))
	return 1
}
