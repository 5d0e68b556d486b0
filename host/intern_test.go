package host

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// protoConstant is the constant equal to s that p (or a function inside
// it) reads by name, "" when none: found through a compiled copy of a
// chunk indexing by s, which Compile makes the process's copy too.
func protoConstant(t *testing.T, s string) string {
	t.Helper()
	p, err := luavm.Compile("probe.lua", []byte("return x."+s))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Constants {
		if c == lua.LString(s) {
			return string(c.(lua.LString))
		}
	}
	t.Fatalf("no constant %q", s)
	return ""
}

// The names token-auth reads on every request are found by pointer: the
// PDK's namespaces, kong.cache's methods, the DAO's methods and the
// plugin's configuration hold their keys as the code's copies.
func TestPluginNamesShareTheCodesBytes(t *testing.T) {
	m := newMemNode(t)
	m.request(t, "/authed", memNodeToken)() // binds kong.db.token_credentials
	ws := *m.n.h.Pool.live.Load()
	if len(ws) == 0 {
		t.Fatal("no worker")
	}
	w := ws[0]
	field := func(tab lua.LValue, names ...string) *lua.LTable {
		t.Helper()
		for _, n := range names {
			switch x := tab.(type) {
			case *lua.LTable:
				tab = x.RawGetString(n)
			case *lua.LUserData:
				tab = x.Metatable.(*lua.LTable).RawGetString(n)
			}
		}
		tt, ok := tab.(*lua.LTable)
		if !ok {
			t.Fatalf("%v is %T", names, tab)
		}
		return tt
	}
	kong := w.L.GetGlobal("kong")
	var conf *lua.LTable
	for _, c := range w.confs {
		if c != nil && c.RawGetString("header_name") != lua.LNil {
			conf = c
		}
	}
	if conf == nil {
		t.Fatal("no token-auth configuration table in the worker")
	}
	dao := field(kong, "db", "token_credentials")
	for _, c := range []struct {
		where string
		t     *lua.LTable
		name  string
	}{
		{"kong", field(kong), "request"},
		{"kong.request", field(kong, "request"), "get_header"},
		{"kong.service.request", field(kong, "service", "request"), "clear_header"},
		{"kong.client", field(kong, "client"), "authenticate"},
		{"kong.cache's methods", field(kong, "cache", "__index"), "get"},
		{"the DAO's methods", dao.Metatable.(*lua.LTable).RawGetString("__index").(*lua.LTable), "cache_key"},
		{"the configuration", conf, "header_name"},
		{"the configuration", conf, "hide_credentials"},
	} {
		k, ok := luavm.KeyCopy(c.t, c.name)
		if !ok {
			t.Errorf("%s has no key %q", c.where, c.name)
			continue
		}
		if !luavm.SameString(k, protoConstant(t, c.name)) {
			t.Errorf("%s's key %q is not the code's copy", c.where, c.name)
		}
	}
}
