package luavm

import (
	"fmt"
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Options configure NewState.
type Options struct {
	// Stdout receives print's output (nil: os.Stdout).
	Stdout io.Writer
	// CallStackSize, RegistrySize and RegistryMaxSize are gopher-lua's
	// (0: luavm's defaults).
	CallStackSize, RegistrySize, RegistryMaxSize int
}

// NewState returns a Lua state with Lua 5.1's standard libraries, corrected
// by OpenLibs.
func NewState(o Options) *lua.LState {
	if o.CallStackSize == 0 {
		o.CallStackSize = 256
	}
	if o.RegistrySize == 0 {
		o.RegistrySize = 1024 * 4
	}
	if o.RegistryMaxSize == 0 {
		o.RegistryMaxSize = 1024 * 256
	}
	// the registry grows in 4K steps: gopher-lua's default of 32 makes
	// filling it quadratic (a quarter of a million values took 20 s)
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: o.CallStackSize,
		RegistrySize: o.RegistrySize, RegistryMaxSize: o.RegistryMaxSize, RegistryGrowStep: 4096})
	OpenLibs(L, o.Stdout)
	return L
}

// OpenLibs opens gopher-lua's standard libraries in L (package, base,
// table, io, os, string, math, debug, coroutine) and replaces the functions
// whose behaviour differs from Lua 5.1: pcall and xpcall (upvalues of live
// frames stay open after an error; coroutine.yield refuses to cross them),
// tostring, print and table.concat
// (numbers as %.14g), loadstring, load, loadfile and dofile (compiled by
// Compile). print writes to stdout (nil: os.Stdout).
func OpenLibs(L *lua.LState, stdout io.Writer) *Protector {
	if err := Internals(); err != nil {
		panic(err)
	}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.IoLibName, lua.OpenIo},
		{lua.OsLibName, lua.OpenOs},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.DebugLibName, lua.OpenDebug},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	p := install(L)
	g := L.G.Global
	g.RawSetString("pcall", L.NewFunction(p.basePCall))
	g.RawSetString("xpcall", L.NewFunction(p.baseXPCall))
	g.RawSetString("tostring", L.NewFunction(baseToString))
	g.RawSetString("print", L.NewFunction(func(L *lua.LState) int { return basePrint(L, stdout) }))
	g.RawSetString("loadstring", L.NewFunction(baseLoadString))
	g.RawSetString("load", L.NewFunction(baseLoad))
	g.RawSetString("loadfile", L.NewFunction(baseLoadFile))
	g.RawSetString("dofile", L.NewFunction(baseDoFile))
	if t, ok := g.RawGetString("table").(*lua.LTable); ok {
		t.RawSetString("concat", L.NewFunction(tableConcat))
	}
	// base fixes first: the string library wraps their setmetatable
	openBaseFixes(L)
	openStringLib(L)
	if t, ok := g.RawGetString("coroutine").(*lua.LTable); ok {
		t.RawSetString("yield", L.NewFunction(p.coYield))
	}
	installCoverage(L)
	return p
}

// TostringValue is tostring(v): __tostring, else Lua 5.1's text for v.
func TostringValue(L *lua.LState, v lua.LValue) lua.LValue {
	if h := L.GetMetaField(v, "__tostring"); h != lua.LNil {
		return call1(L, h, v)
	}
	switch v := v.(type) {
	case lua.LString:
		return v
	case lua.LNumber:
		return lua.LString(FormatNumber(float64(v)))
	}
	return lua.LString(v.String())
}

func baseToString(L *lua.LState) int {
	L.Push(TostringValue(L, checkAny(L, 1)))
	return 1
}

// basePrint is Lua 5.1's print: each argument through the global tostring.
func basePrint(L *lua.LState, w io.Writer) int {
	n := L.GetTop()
	tostring := L.GetGlobal("tostring")
	var b strings.Builder
	for i := 1; i <= n; i++ {
		L.Push(tostring)
		L.Push(L.Get(i))
		L.Call(1, 1)
		s, ok := L.Get(-1).(lua.LString)
		if !ok {
			if num, isNum := L.Get(-1).(lua.LNumber); isNum {
				s, ok = lua.LString(FormatNumber(float64(num))), true
			}
		}
		if !ok {
			L.RaiseError("'tostring' must return a string to 'print'")
		}
		L.Pop(1)
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(string(s))
	}
	b.WriteByte('\n')
	io.WriteString(w, b.String())
	return 0
}

// tableConcat is Lua 5.1's table.concat(t [, sep [, i [, j]]]).
func tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := ""
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		sep = checkStringArg(L, 2)
	}
	i := L.OptInt(3, 1)
	j := 0
	if L.GetTop() >= 4 && L.Get(4) != lua.LNil {
		j = L.CheckInt(4)
	} else {
		j = t.Len()
	}
	var b []byte
	for k := i; k <= j; k++ {
		// RawGet, not RawGetInt: index 0 and negative ones are hash keys
		v := t.RawGet(lua.LNumber(k))
		if !isStringOrNumber(v) {
			raise(L, "invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
		b = appendString(b, v)
		if k < j {
			b = append(b, sep...)
		}
	}
	L.Push(lua.LString(b))
	return 1
}

// checkStringArg is luaL_checklstring: a string, or a number formatted as
// Lua 5.1 formats it.
func checkStringArg(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return FormatNumber(float64(v))
	}
	L.TypeError(n, lua.LTString)
	return ""
}

// CheckString is luaL_checkstring for bindings: a string argument, or a
// number converted as Lua 5.1 converts it.
func CheckString(L *lua.LState, n int) string { return checkStringArg(L, n) }

// loadChunk compiles src and pushes the function, or nil and the message.
func loadChunk(L *lua.LState, src []byte, chunk string) int {
	proto, err := Compile(chunkID(chunk), src)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(L.NewFunctionFromProto(proto))
	return 1
}

// baseLoadString is loadstring(s [, chunkname]); Lua 5.1 names the chunk
// after its source by default.
func baseLoadString(L *lua.LState) int {
	s := checkStringArg(L, 1)
	return loadChunk(L, []byte(s), L.OptString(2, s))
}

// baseLoad is load(f [, chunkname]): the pieces f returns, until nil or "".
func baseLoad(L *lua.LState) int {
	fn := L.CheckFunction(1)
	chunk := L.OptString(2, "=(load)")
	var b []byte
	for {
		L.Push(fn)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		if v == lua.LNil {
			break
		}
		s, ok := v.(lua.LString)
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LString("reader function must return a string"))
			return 2
		}
		if len(s) == 0 {
			break
		}
		b = append(b, s...)
	}
	return loadChunk(L, b, chunk)
}

func baseLoadFile(L *lua.LState) int {
	name := L.OptString(1, "")
	if name == "" {
		src, err := io.ReadAll(os.Stdin)
		if err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString("cannot read stdin"))
			return 2
		}
		return loadChunk(L, src, "=stdin")
	}
	src, err := os.ReadFile(name)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(fmt.Sprintf("cannot open %s", name)))
		return 2
	}
	return loadChunk(L, src, "@"+name)
}

func baseDoFile(L *lua.LState) int {
	top := L.GetTop()
	if baseLoadFile(L) == 2 {
		L.Error(L.Get(-1), 0)
	}
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

// chunkID is the name Lua 5.1 shows for a chunk named name (luaO_chunkid
// with LUA_IDSIZE 60): "=name" as is, "@file" as the file (its last 52
// bytes), anything else as [string "first line..."].
func chunkID(name string) string {
	const idsize = 60
	switch {
	case strings.HasPrefix(name, "="):
		s := name[1:]
		if len(s) > idsize-1 {
			s = s[:idsize-1]
		}
		return s
	case strings.HasPrefix(name, "@"):
		s := name[1:]
		if max := idsize - len(" '...' ") - 1; len(s) > max {
			return "..." + s[len(s)-max:]
		}
		return s
	}
	n := strings.IndexAny(name, "\n\r")
	if n < 0 {
		n = len(name)
	}
	max := idsize - len(" [string \"...\"] ") - 1
	if n > max {
		n = max
	}
	if n < len(name) {
		return `[string "` + name[:n] + `..."]`
	}
	return `[string "` + name + `"]`
}
