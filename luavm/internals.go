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
//   - (*LState).closeUpvalues(idx int), linked by name;
//   - callFrame.Fn, callFrame.Pc and callFrame.Parent, read to name
//     the variable a runtime error is about (errnames.go);
//   - jumpTable, the VM's instruction handlers, whose OP_CONCAT entry luavm
//     replaces with Lua 5.1's concatenation (numbers as %.14g), reading and
//     writing registers through registry.array, registry.top and
//     LState.currentFrame.LocalBase.
//
// checkInternals verifies the fields' names and types by reflection at
// start-up (and that every jumpTable entry is set, as a check of its size); a gopher-lua upgrade that renames or retypes them makes
// Internals() return an error (TestInternals fails, and OpenLibs panics with
// the reason), and one that removes closeUpvalues or jumpTable fails to link.

//go:linkname closeUpvalues github.com/yuin/gopher-lua.(*LState).closeUpvalues
func closeUpvalues(L *lua.LState, idx int)

// instFunc is gopher-lua's instruction handler type; its third parameter
// is a *callFrame, pointer-shaped like unsafe.Pointer.
type instFunc func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int

// jumpTable is gopher-lua's table of instruction handlers, indexed by
// opcode (OP_NOP is the last one). luavm replaces OP_CONCAT's handler at
// init (concat.go).
//
//go:linkname jumpTable github.com/yuin/gopher-lua.jumpTable
var jumpTable [lua.OP_NOP + 1]instFunc

var (
	offHasErrorFunc uintptr
	offReg          uintptr
	offRegTop       uintptr
	offRegArray     uintptr
	offCurrentFrame uintptr
	offLocalBase    uintptr
	offFrameFn      uintptr
	offFramePc      uintptr
	offFrameParent  uintptr
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
	arr, ok := r.Type.Elem().FieldByName("array")
	if !ok || arr.Type.Kind() != reflect.Slice || arr.Type.Elem() != reflect.TypeOf((*lua.LValue)(nil)).Elem() {
		return fmt.Errorf("luavm: gopher-lua's registry has no []LValue field array (upgraded?)")
	}
	offRegArray = arr.Offset
	cf, ok := st.FieldByName("currentFrame")
	if !ok || cf.Type.Kind() != reflect.Pointer || cf.Type.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("luavm: gopher-lua's LState has no *callFrame field currentFrame (upgraded?)")
	}
	offCurrentFrame = cf.Offset
	lb, ok := cf.Type.Elem().FieldByName("LocalBase")
	if !ok || lb.Type.Kind() != reflect.Int {
		return fmt.Errorf("luavm: gopher-lua's callFrame has no int field LocalBase (upgraded?)")
	}
	offLocalBase = lb.Offset
	fn, ok := cf.Type.Elem().FieldByName("Fn")
	if !ok || fn.Type != reflect.TypeOf((*lua.LFunction)(nil)) {
		return fmt.Errorf("luavm: gopher-lua's callFrame has no *LFunction field Fn (upgraded?)")
	}
	offFrameFn = fn.Offset
	pc, ok := cf.Type.Elem().FieldByName("Pc")
	if !ok || pc.Type.Kind() != reflect.Int {
		return fmt.Errorf("luavm: gopher-lua's callFrame has no int field Pc (upgraded?)")
	}
	offFramePc = pc.Offset
	parent, ok := cf.Type.Elem().FieldByName("Parent")
	if !ok || parent.Type != cf.Type {
		return fmt.Errorf("luavm: gopher-lua's callFrame has no *callFrame field Parent (upgraded?)")
	}
	offFrameParent = parent.Offset
	for i, h := range jumpTable {
		if h == nil {
			return fmt.Errorf("luavm: gopher-lua's jumpTable has no handler for opcode %d (upgraded?)", i)
		}
	}
	return checkTableInternals()
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

// regArray is L's value stack (the registry's array, shared: writes go to
// L's registers).
func regArray(L *lua.LState) []lua.LValue {
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), offReg))
	return *(*[]lua.LValue)(unsafe.Add(reg, offRegArray))
}

// setRegTop sets the top of L's value stack (no clearing: only to raise it
// over a register just written, as gopher-lua's registry.Set does).
func setRegTop(L *lua.LState, top int) {
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), offReg))
	*(*int)(unsafe.Add(reg, offRegTop)) = top
}

// localBase is the absolute stack index of the running frame's first
// register.
func localBase(L *lua.LState) int {
	cf := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), offCurrentFrame))
	return *(*int)(unsafe.Add(cf, offLocalBase))
}

// regTop is the absolute index of the top of L's value stack.
func regTop(L *lua.LState) int {
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), offReg))
	return *(*int)(unsafe.Add(reg, offRegTop))
}

// runningLua is the function running level frames below L's current one
// (0: the current frame) and the index of its current instruction, when
// that function is a Lua one (ok false otherwise), and the absolute stack
// index of its first register.
func runningLua(L *lua.LState, level int) (fn *lua.LFunction, pc, base int, ok bool) {
	cf := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), offCurrentFrame))
	for ; level > 0 && cf != nil; level-- {
		cf = *(*unsafe.Pointer)(unsafe.Add(cf, offFrameParent))
	}
	if cf == nil {
		return nil, 0, 0, false
	}
	fn = *(**lua.LFunction)(unsafe.Add(cf, offFrameFn))
	if fn == nil || fn.IsG || fn.Proto == nil {
		return nil, 0, 0, false
	}
	// the VM moves Pc past an instruction before running it
	pc = *(*int)(unsafe.Add(cf, offFramePc)) - 1
	if pc < 0 || pc >= len(fn.Proto.Code) {
		return nil, 0, 0, false
	}
	return fn, pc, *(*int)(unsafe.Add(cf, offLocalBase)), true
}
