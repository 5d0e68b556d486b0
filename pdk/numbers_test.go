package pdk

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/bind"
)

// Numbers reach text as Lua 5.1 prints them (%.14g) through every binding
// that turns them into text, not with Go's %v (gopher-lua's own).
func TestNumbersAsLua51InBindings(t *testing.T) {
	in, sink := newShimState(t, "log_level", "debug")
	got := str(t, in, `
local cjson = require "cjson"
local n = 1795497432.539
kong.log.err("kong.log ", n, " ", 0.1 + 0.2, " ", 1e15)
ngx.log(ngx.ERR, "ngx.log ", n, " ", 0.1 + 0.2)
return cjson.encode({ a = 0.1 + 0.2, b = n }) .. " " .. ngx.md5(0.5) .. " " .. ngx.encode_base64(0.1 + 0.2)`)
	want := `{"a":0.3,"b":1795497432.539} ` + "d310cb367d993fb6fb584b198a2fd72c MC4z"
	if got != want && got != `{"b":1795497432.539,"a":0.3} d310cb367d993fb6fb584b198a2fd72c MC4z` {
		t.Errorf("got %q, want %q", got, want)
	}
	lines := strings.Join(sink.all(), "\n")
	for _, w := range []string{"kong.log 1795497432.539 0.3 1e+15", "ngx.log 1795497432.539 0.3"} {
		if !strings.Contains(lines, w) {
			t.Errorf("log lines lack %q:\n%s", w, lines)
		}
	}
}

// A table reached 2^40 ways without a cycle ({t, t} forty levels deep) is
// refused by the Lua->Go conversion and cut short by kong.log.inspect,
// instead of holding the worker for ever outside any Lua instruction
// (found by FuzzBindings through kong.db.schema.entity.new).
func TestSharedSubtablesAreBounded(t *testing.T) {
	in, _ := newShimState(t)
	dag := run(t, in, "dag.lua", `local t = { 1 } for i = 1, 40 do t = { t, t, k = t } end return t`)[0]
	if _, err := bind.ToValue(in.L, dag, nil); err == nil || !strings.Contains(err.Error(), "table too large") {
		t.Fatalf("ToValue: %v", err)
	}
	if s := Inspect(dag); len(s) > 2<<20 || !strings.HasSuffix(s, "...(truncated)") {
		t.Fatalf("Inspect: %d bytes", len(s))
	}
	in.L.SetGlobal("dag", dag)
	if msg := luaErr(t, in, `kong.log.set_serialize_value("k", dag)`); !strings.Contains(msg, "value must be") {
		t.Fatalf("set_serialize_value: %q", msg)
	}
}
