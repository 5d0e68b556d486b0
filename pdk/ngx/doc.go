// Package ngx is the part of OpenResty's ngx.* API that needs no worker
// state: the hash, base64 and URI functions (codec.go), ngx.re on Go's
// regexp with its per-Root pattern cache (re.go), the shared dicts of
// ngx.shared (shared.go), the clock functions (time.go) and ngx.socket:
// udp (udp.go) and the TCP cosocket (tcp*.go, its keepalive pools in
// tcp_pool.go), ngx.thread's light threads (thread.go), plus
// lua-resty-core's "ngx.re", "ngx.base64" and "ngx.semaphore"
// (semaphore.go) modules.
//
// pdk's ngx.go builds each worker's ngx table from these parts and adds
// what belongs to the worker: ngx.ctx, ngx.get_phase, ngx.worker,
// ngx.config, ngx.log (pdk's log, shared with kong.log) and ngx.timer
// (pdk/ngx_timer.go, which runs on the worker's event loop). The
// request-bound members (ngx.var, ngx.req, ngx.header, ngx.say, ngx.exit)
// are pdk/request's.
//
// The cosocket entry points (tcp, stream, udp, connect, setpeername),
// ngx.thread and a semaphore's wait check lua-nginx-module's context
// first: SocketEnv's, Threads' and OpenSemaphoreModule's phase is
// ngx.get_phase()'s answer, and
// outside bind.Yieldable they refuse with "API disabled in the context
// of ...".
//
// Like every binding package it imports pdk/bind, never pdk.
package ngx
