package luavm

import (
	"errors"
	"testing"
)

// A parse error is reported as PUC Lua 5.1 reports it: chunk:line: msg.
func TestCompileSyntaxErrorAsLua51(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"return {\n  { id = 1 }\n  { name = 2 },\n}\n", "kong/plugins/x/daos.lua:3: '}' expected (to close '{' at line 1) near '{'"},
		{"local t = {\n  a = 1,\n  b = 2,\n", "kong/plugins/x/daos.lua:4: unexpected symbol near '<eof>'"},
		{"x = f(a,)", "kong/plugins/x/daos.lua:1: unexpected symbol near ')'"},
		{"\xef\xbb\xbf#!/usr/bin/lua\nlocal x = = 1", "kong/plugins/x/daos.lua:2: unexpected symbol near '='"},
		// found by gopher-lua's compiler, not its parser
		{"local x = 1\nbreak\n", "kong/plugins/x/daos.lua:3: no loop to break near '<eof>'"},
		{"local function f()\n  return ...\nend\n", "kong/plugins/x/daos.lua:2: cannot use '...' outside a vararg function near '...'"},
	} {
		_, err := Compile("kong/plugins/x/daos.lua", []byte(c.src))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%q: want *SyntaxError, got %v", c.src, err)
		}
		if err.Error() != c.want || se.Line == 0 || se.Chunk != "kong/plugins/x/daos.lua" || se.Err == nil {
			t.Errorf("%q:\n got %q (line %d)\nwant %q", c.src, err.Error(), se.Line, c.want)
		}
	}
}

// Where gopher-lua rejects code the checker accepts (a LuaJIT extension
// gopher-lua lacks), gopher-lua's message is kept.
func TestCompileSyntaxErrorDisagreement(t *testing.T) {
	_, err := Compile("t.lua", []byte("x = 0x1p-4"))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("want *SyntaxError, got %v", err)
	}
	if se.Line != 0 || se.Msg != "" || err.Error() != se.Err.Error() {
		t.Errorf("got %q (line %d, msg %q)", err.Error(), se.Line, se.Msg)
	}
}
