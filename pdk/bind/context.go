package bind

import lua "github.com/yuin/gopher-lua"

// Contexts is a set of lua-nginx-module's contexts (its
// NGX_HTTP_LUA_CONTEXT_* flags): where an API works. Its bindings check
// the context before they act and refuse with "API disabled in the
// context of <directive>" elsewhere, so a plugin that opens a cosocket in
// log fails in Kong (which is why Kong's log plugins use ngx.timer.at).
type Contexts uint32

// lua-nginx-module's contexts, each named as ngx.get_phase() names it.
const (
	CtxSet             Contexts = 1 << iota // "set"
	CtxRewrite                              // "rewrite"
	CtxServerRewrite                        // "server_rewrite"
	CtxAccess                               // "access"
	CtxContent                              // "content"
	CtxLog                                  // "log"
	CtxHeaderFilter                         // "header_filter"
	CtxBodyFilter                           // "body_filter"
	CtxTimer                                // "timer"
	CtxInitWorker                           // "init_worker"
	CtxExitWorker                           // "exit_worker"
	CtxBalancer                             // "balancer"
	CtxSSLCert                              // "ssl_cert"
	CtxSSLSessionStore                      // "ssl_session_store"
	CtxSSLSessionFetch                      // "ssl_session_fetch"
	CtxSSLClientHello                       // "ssl_client_hello"
)

// The sets lua-nginx-module's checks allow.
const (
	// Yieldable is NGX_HTTP_LUA_CONTEXT_YIELDABLE: where a handler may
	// wait (cosockets, ngx.sleep, a semaphore's wait).
	Yieldable = CtxRewrite | CtxServerRewrite | CtxAccess | CtxContent | CtxTimer |
		CtxSSLCert | CtxSSLSessionFetch | CtxSSLClientHello
	// RequestHandlers are the request's own handlers, before its response:
	// ngx.say/print/eof, ngx.redirect, ngx.exec, ngx.req.read_body,
	// ngx.req.socket.
	RequestHandlers = CtxRewrite | CtxServerRewrite | CtxAccess | CtxContent
)

// ngxContext is the context ngx.get_phase() answers phase in and
// lua-nginx-module's name of it in its messages (ngx_http_lua_context_name);
// 0 for a phase it has no context for.
func ngxContext(phase string) (Contexts, string) {
	switch phase {
	case "set":
		return CtxSet, "set_by_lua*"
	case "rewrite":
		return CtxRewrite, "rewrite_by_lua*"
	case "server_rewrite":
		return CtxServerRewrite, "server_rewrite_by_lua*"
	case "access":
		return CtxAccess, "access_by_lua*"
	case "content":
		return CtxContent, "content_by_lua*"
	case "log":
		return CtxLog, "log_by_lua*"
	case "header_filter":
		return CtxHeaderFilter, "header_filter_by_lua*"
	case "body_filter":
		return CtxBodyFilter, "body_filter_by_lua*"
	case "timer":
		return CtxTimer, "ngx.timer"
	case "init_worker":
		return CtxInitWorker, "init_worker_by_lua*"
	case "exit_worker":
		return CtxExitWorker, "exit_worker_by_lua*"
	case "balancer":
		return CtxBalancer, "balancer_by_lua*"
	case "ssl_cert":
		return CtxSSLCert, "ssl_certificate_by_lua*"
	case "ssl_session_store":
		return CtxSSLSessionStore, "ssl_session_store_by_lua*"
	case "ssl_session_fetch":
		return CtxSSLSessionFetch, "ssl_session_fetch_by_lua*"
	case "ssl_client_hello":
		return CtxSSLClientHello, "ssl_client_hello_by_lua*"
	}
	return 0, ""
}

// ContextDisabled is lua-nginx-module's "API disabled in the context of
// <directive>" when phase (ngx.get_phase()'s answer) is a context outside
// allowed, "" otherwise. A phase with no context passes: "init" above all,
// where luahost loads plugins, runs migrations and keeps its idle
// workers (ngx_lua, with no request in init_by_lua, answers "no request
// found" there; Kong's CLI runs migrations in a timer, where they work).
func ContextDisabled(phase string, allowed Contexts) string {
	ctx, name := ngxContext(phase)
	if ctx == 0 || ctx&allowed != 0 {
		return ""
	}
	return "API disabled in the context of " + name
}

// CheckContext raises ContextDisabled's message, located at the Lua
// caller as ngx_lua's luaL_error locates it, when phase is outside
// allowed.
func CheckContext(L *lua.LState, phase string, allowed Contexts) {
	if msg := ContextDisabled(phase, allowed); msg != "" {
		RaiseAtCaller(L, msg)
	}
}
