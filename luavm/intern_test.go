package luavm

import (
	"strings"
	"testing"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// stringConstant is p's constant equal to s as the instructions that index
// by name read it (stringConstants), or "" when p has none.
func stringConstant(p *lua.FunctionProto, s string) string {
	for _, c := range *(*[]string)(unsafe.Add(unsafe.Pointer(p), offStringConstants)) {
		if c == s {
			return c
		}
	}
	for _, f := range p.FunctionPrototypes {
		if c := stringConstant(f, s); c != "" {
			return c
		}
	}
	return ""
}

// Names compiled in different chunks, and the keys of the tables made
// the process's copies, share their bytes; the long strings are left as
// they are; what the code reads is unchanged.
func TestInternNames(t *testing.T) {
	if protoErr != nil {
		t.Fatal(protoErr)
	}
	const name = "intern_test_field"
	long := "intern_test_" + strings.Repeat("x", maxInternLen)
	src := "local t = ... return t." + name + ", t.sub." + name + ", (function() return t.ud_method end)(), '" + long + "'"
	p1, err := Compile("a.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Compile("b.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := stringConstant(p1, name), stringConstant(p2, name)
	if c1 == "" || !SameString(c1, c2) {
		t.Fatalf("the two chunks' %q are separate copies", name)
	}
	if c := stringConstant(p1, "ud_method"); !SameString(c, stringConstant(p2, "ud_method")) {
		t.Error("a nested function's constant is not interned")
	}
	var k1 lua.LValue
	for _, c := range p1.Constants {
		if c == lua.LString(name) {
			k1 = c
		}
	}
	if !SameString(string(k1.(lua.LString)), c1) {
		t.Error("the constant as a value (Constants) is another copy than the one read by name")
	}
	if l1, l2 := stringConstant(p1, long), stringConstant(p2, long); SameString(l1, l2) {
		t.Errorf("a %d-byte string was interned", len(long))
	}

	L := NewState(Options{})
	defer L.Close()
	tab, sub, mt, methods := L.NewTable(), L.NewTable(), L.NewTable(), L.NewTable()
	tab.RawSetString(strings.Clone(name), lua.LString("top"))
	sub.RawSetString(strings.Clone(name), lua.LString("nested"))
	tab.RawSetString("sub", sub)
	methods.RawSetString(strings.Clone("ud_method"), lua.LString("method"))
	mt.RawSetString("__index", methods)
	ud := L.NewUserData()
	ud.Metatable = mt
	tab.RawSetString("ud", ud)
	if k, _ := KeyCopy(tab, name); SameString(k, c1) {
		t.Fatal("a table's key shares the code's bytes before InternKeys")
	}
	InternKeys(tab, 3)
	for _, c := range []struct {
		t    *lua.LTable
		name string
	}{{tab, name}, {sub, name}, {methods, "ud_method"}} {
		if k, ok := KeyCopy(c.t, c.name); !ok || !SameString(k, stringConstant(p1, c.name)) {
			t.Errorf("key %q (found %v) is not the code's copy after InternKeys", c.name, ok)
		}
	}
	// the values are where they were
	if err := L.CallByParam(lua.P{Fn: L.NewFunctionFromProto(p1), NRet: 4}, tab); err != nil {
		t.Fatal(err)
	}
	got := []string{L.Get(-4).String(), L.Get(-3).String(), L.Get(-2).String()}
	if strings.Join(got, ",") != "top,nested,nil" {
		t.Errorf("the chunk read %v", got)
	}
	if v := methods.RawGetString("ud_method"); v != lua.LString("method") {
		t.Errorf("methods.ud_method = %v", v)
	}
	// a decoded string that equals a name is the name's copy
	var ss Strings
	if v := ss.Get([]byte(name), 16, 64); !SameString(string(v.(lua.LString)), c1) {
		t.Error("Strings.Get made another copy of an interned name")
	}
}
