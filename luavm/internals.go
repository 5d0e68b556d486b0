package luavm

import (
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The few gopher-lua internals luavm touches, in one place. gopher-lua
// (v1.1.2, its issue #448) closes the open upvalues of every frame on the
// stack when an error is raised without an error function, so closures of
// frames that a pcall leaves alive write to detached copies afterwards. Its
// raise paths skip that when LState.hasErrorFunc is set; luavm keeps the
// flag set and closes, itself, only the upvalues of the frames an error
// unwinds (closeUpvalues above the protected call's base), as Lua 5.1's
// luaD_pcall does with luaF_close.
//
// Reached here:
//   - LState.hasErrorFunc (bool), set through its field offset;
//   - LState.reg (*registry) and registry.top (int), read to know the
//     absolute stack index of a protected call's function;
//   - (*LState).closeUpvalues(idx int) and (*LState).stackTrace(level int),
//     linked by name.
//
// checkInternals verifies the fields' names and types by reflection at
// start-up; a gopher-lua upgrade that renames or retypes them makes
// Internals() return an error (TestInternals fails, and OpenLibs panics with
// the reason), and one that removes the two methods fails to link.

//go:linkname closeUpvalues github.com/yuin/gopher-lua.(*LState).closeUpvalues
func closeUpvalues(L *lua.LState, idx int)

//go:linkname stackTrace github.com/yuin/gopher-lua.(*LState).stackTrace
func stackTrace(L *lua.LState, level int) string

var (
	offHasErrorFunc uintptr
	offReg          uintptr
	offRegTop       uintptr
	internalsErr    error
)

func init() { internalsErr = checkInternals() }

func checkInternals() error {
	st := reflect.TypeOf(lua.LState{})
	f, ok := st.FieldByName("hasErrorFunc")
	if !ok || f.Type.Kind() != reflect.Bool {
		return fmt.Errorf("luavm: gopher-lua's LState has no bool field hasErrorFunc (upgraded?): pcall cannot keep upvalues open")
	}
	offHasErrorFunc = f.Offset
	r, ok := st.FieldByName("reg")
	if !ok || r.Type.Kind() != reflect.Pointer || r.Type.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("luavm: gopher-lua's LState has no *registry field reg (upgraded?)")
	}
	offReg = r.Offset
	top, ok := r.Type.Elem().FieldByName("top")
	if !ok || top.Type.Kind() != reflect.Int {
		return fmt.Errorf("luavm: gopher-lua's registry has no int field top (upgraded?)")
	}
	offRegTop = top.Offset
	return nil
}

// Internals reports whether the gopher-lua internals luavm relies on are
// where it expects them.
func Internals() error { return internalsErr }

// setErrorFuncFlag sets L.hasErrorFunc, so that raising an error does not
// close every open upvalue of L's stack.
func setErrorFuncFlag(L *lua.LState) {
	*(*bool)(unsafe.Add(unsafe.Pointer(L), offHasErrorFunc)) = true
}

// errorFuncFlag reads L.hasErrorFunc (tests).
func errorFuncFlag(L *lua.LState) bool {
	return *(*bool)(unsafe.Add(unsafe.Pointer(L), offHasErrorFunc))
}

// regTop is the absolute index of the top of L's value stack.
func regTop(L *lua.LState) int {
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), offReg))
	return *(*int)(unsafe.Add(reg, offRegTop))
}
