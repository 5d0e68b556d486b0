package request

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/proxy"
)

// ctxCalls record, for each API lua-nginx-module allows in rewrite, access
// and content only, what a protected call of it raised.
const ctxCalls = `
	local function try(k, f) record(k, select(2, pcall(f))) end
	try("read_body", function() ngx.req.read_body() end)
	try("req_socket", function() ngx.req.socket() end)
	try("capture", function() ngx.location.capture("/x") end)
	try("capture_multi", function() ngx.location.capture_multi({ { "/x" } }) end)
`

// ngx.req.read_body, ngx.req.socket and ngx.location.capture(_multi)
// raise lua-nginx-module's "API disabled in the context of ..." in
// header_filter, body_filter and log, before luahost's own "not
// supported"; in access read_body works.
func TestNgxRequestAPIContexts(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	for _, p := range []Phase{PhaseAccess, PhaseHeaderFilter, PhaseBodyFilter, PhaseLog} {
		e.on(p, `local function record_(k, v) record(k .. "@" .. ngx.get_phase(), v) end
			local record = record_`+ctxCalls)
	}
	e.get("/ctx")
	e.noErrors()
	for _, c := range []struct{ phase, name string }{
		{"header_filter", "header_filter_by_lua*"}, {"body_filter", "body_filter_by_lua*"}, {"log", "log_by_lua*"},
	} {
		disabled := " API disabled in the context of " + c.name
		e.want("read_body@"+c.phase, "snippet:4:"+disabled, "req_socket@"+c.phase, "snippet:5:"+disabled,
			"capture@"+c.phase, "snippet:6:"+disabled, "capture_multi@"+c.phase, "snippet:7:"+disabled)
	}
	e.want("read_body@access", "nil",
		"req_socket@access", "snippet:5: ngx.req.socket is not supported by luahost",
		"capture@access", "snippet:6: ngx.location.capture is not supported by luahost")
}

// With no request, in a timer or init_worker, read_body and the output
// API (ngx.say, ngx.print, ngx.eof, ngx.redirect) raise ngx_lua's message
// naming the context; in init (no request there in ngx_lua either) they
// answer "no request found".
func TestNgxRequestAPIWithoutRequest(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	L := e.in.L
	run := func(src string) string {
		proto, err := luavm.Compile("snippet", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		err = luavm.CallProtected(L, L.NewFunctionFromProto(proto), 0, false)
		if err == nil {
			return "<no error>"
		}
		if ae, ok := err.(*lua.ApiError); ok {
			return ae.Object.String()
		}
		return err.Error()
	}
	calls := []string{`ngx.req.read_body()`, `ngx.say("x")`, `ngx.print("x")`, `ngx.eof()`, `ngx.redirect("/x")`}
	for phase, want := range map[string]string{
		"timer":       "snippet:1: API disabled in the context of ngx.timer",
		"init_worker": "snippet:1: API disabled in the context of init_worker_by_lua*",
		"init":        "snippet:1: no request found",
	} {
		e.in.Phase = phase
		for _, src := range calls {
			if got := run(src); got != want {
				t.Errorf("%s in %s: %q, want %q", src, phase, got, want)
			}
		}
	}
}
