package bind

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Each context ngx.get_phase() can answer is named in the message as
// lua-nginx-module's ngx_http_lua_context_name names it; a context in the
// allowed set, and a phase with no context ("init", luahost's own names),
// pass.
func TestContextDisabled(t *testing.T) {
	names := map[string]string{
		"set": "set_by_lua*", "rewrite": "rewrite_by_lua*", "server_rewrite": "server_rewrite_by_lua*",
		"access": "access_by_lua*", "content": "content_by_lua*", "log": "log_by_lua*",
		"header_filter": "header_filter_by_lua*", "body_filter": "body_filter_by_lua*",
		"timer": "ngx.timer", "init_worker": "init_worker_by_lua*", "exit_worker": "exit_worker_by_lua*",
		"balancer": "balancer_by_lua*", "ssl_cert": "ssl_certificate_by_lua*",
		"ssl_session_store": "ssl_session_store_by_lua*", "ssl_session_fetch": "ssl_session_fetch_by_lua*",
		"ssl_client_hello": "ssl_client_hello_by_lua*",
	}
	for phase, name := range names {
		if got, want := ContextDisabled(phase, 0), "API disabled in the context of "+name; got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
	}
	yieldable := map[string]bool{
		"rewrite": true, "server_rewrite": true, "access": true, "content": true, "timer": true,
		"ssl_cert": true, "ssl_session_fetch": true, "ssl_client_hello": true,
	}
	for phase := range names {
		if got := ContextDisabled(phase, Yieldable) == ""; got != yieldable[phase] {
			t.Errorf("%s yieldable: %v", phase, got)
		}
	}
	for _, phase := range []string{"init", "", "certificate", "response", "preread"} {
		if got := ContextDisabled(phase, 0); got != "" {
			t.Errorf("%q: %q", phase, got)
		}
	}
}

// CheckContext raises at the Lua caller's line, as luaL_error does.
func TestCheckContextRaisesAtCaller(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	phase := "log"
	L.SetGlobal("tcp", L.NewFunction(func(L *lua.LState) int {
		CheckContext(L, phase, Yieldable)
		L.Push(lua.LTrue)
		return 1
	}))
	fn, err := L.Load(strings.NewReader("\nreturn tcp()"), "handler.lua")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	err = L.PCall(0, 1, nil)
	if ae, ok := err.(*lua.ApiError); !ok || ae.Object.String() != "handler.lua:2: API disabled in the context of log_by_lua*" {
		t.Fatalf("log: %v", err)
	}
	phase = "timer"
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil || L.Get(-1) != lua.LTrue {
		t.Fatalf("timer: %v %v", err, L.Get(-1))
	}
}
