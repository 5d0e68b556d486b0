package host

import (
	"errors"
	"testing"

	"github.com/luahost/luahost/luavm"
)

// locate reads file and line back from syntax errors, as Lua 5.1 words
// them (alone, or wrapped by require) and as gopher-lua words them.
func TestLocateSyntaxErrors(t *testing.T) {
	_, err := luavm.Compile("kong/plugins/x/daos.lua", []byte("return {\n  { a = 1 }\n  { b = 2 },\n}\n"))
	var se *luavm.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("want a syntax error, got %v", err)
	}
	const want = "'}' expected (to close '{' at line 1) near '{'"
	for _, c := range []struct {
		msg, plugin, file string
		line              int
	}{
		{err.Error(), "x", "kong/plugins/x/daos.lua", 3},
		{"error loading module 'kong.plugins.x.daos' from file '/srv/kong/plugins/x/daos.lua':\n\t" + err.Error(), "x", "kong/plugins/x/daos.lua", 3},
		{"kong/plugins/y/handler.lua:40: in function\n" + err.Error(), "x", "kong/plugins/x/daos.lua", 3},
		{"kong/plugins/x/daos.lua line:3(column:3) near '{':   syntax error", "x", "kong/plugins/x/daos.lua", 3},
	} {
		file, line, _ := locate(c.msg, c.plugin)
		if file != c.file || line != c.line {
			t.Errorf("locate(%q) = %s:%d, want %s:%d", c.msg, file, line, c.file, c.line)
		}
	}
	if se.Msg != want || se.Line != 3 {
		t.Errorf("got %d: %q, want 3: %q", se.Line, se.Msg, want)
	}
}
