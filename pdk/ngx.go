package pdk

import (
	"os"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/ngx"
)

// ngx_lua's version numbers as ngx.config reports them (OpenResty 1.27.1.x,
// the bundle Kong 3.9/3.10 ships).
const (
	ngxLuaVersion = 10027
	nginxVersion  = 1027001
)

var ngxStatusConsts = map[string]int{
	"HTTP_CONTINUE": 100, "HTTP_SWITCHING_PROTOCOLS": 101,
	"HTTP_OK": 200, "HTTP_CREATED": 201, "HTTP_ACCEPTED": 202, "HTTP_NO_CONTENT": 204,
	"HTTP_PARTIAL_CONTENT": 206, "HTTP_SPECIAL_RESPONSE": 300, "HTTP_MOVED_PERMANENTLY": 301,
	"HTTP_MOVED_TEMPORARILY": 302, "HTTP_SEE_OTHER": 303, "HTTP_NOT_MODIFIED": 304,
	"HTTP_TEMPORARY_REDIRECT": 307, "HTTP_PERMANENT_REDIRECT": 308,
	"HTTP_BAD_REQUEST": 400, "HTTP_UNAUTHORIZED": 401, "HTTP_PAYMENT_REQUIRED": 402,
	"HTTP_FORBIDDEN": 403, "HTTP_NOT_FOUND": 404, "HTTP_NOT_ALLOWED": 405,
	"HTTP_NOT_ACCEPTABLE": 406, "HTTP_REQUEST_TIMEOUT": 408, "HTTP_CONFLICT": 409,
	"HTTP_GONE": 410, "HTTP_UPGRADE_REQUIRED": 426, "HTTP_TOO_MANY_REQUESTS": 429,
	"HTTP_CLOSE": 444, "HTTP_ILLEGAL": 451, "HTTP_INTERNAL_SERVER_ERROR": 500,
	"HTTP_METHOD_NOT_IMPLEMENTED": 501, "HTTP_NOT_IMPLEMENTED": 501, "HTTP_BAD_GATEWAY": 502,
	"HTTP_SERVICE_UNAVAILABLE": 503, "HTTP_GATEWAY_TIMEOUT": 504,
	"HTTP_VERSION_NOT_SUPPORTED": 505, "HTTP_INSUFFICIENT_STORAGE": 507,
	// request methods, as ngx.location.capture's `method` option
	"HTTP_GET": 2, "HTTP_HEAD": 4, "HTTP_POST": 8, "HTTP_PUT": 16, "HTTP_DELETE": 32,
	"HTTP_MKCOL": 64, "HTTP_COPY": 128, "HTTP_MOVE": 256, "HTTP_OPTIONS": 512,
	"HTTP_PROPFIND": 1024, "HTTP_PROPPATCH": 2048, "HTTP_LOCK": 4096, "HTTP_UNLOCK": 8192,
	"HTTP_PATCH": 16384, "HTTP_TRACE": 32768,
	// phase results
	"OK": 0, "ERROR": -1, "AGAIN": -2, "DONE": -4, "DECLINED": -5,
	// log levels
	"STDERR": LogStderr, "EMERG": LogEmerg, "ALERT": LogAlert, "CRIT": LogCrit, "ERR": LogErr,
	"WARN": LogWarn, "NOTICE": LogNotice, "INFO": LogInfo, "DEBUG": LogDebug,
}

// openNgx installs the global ngx: ngx.null, ngx.log and its levels
// (ngx_log.go), the time, codec and hash functions, ngx.re and ngx.shared
// (package pdk/ngx), ngx.timer (ngx_timer.go), ngx.config, ngx.worker,
// ngx.get_phase, ngx.ctx, ngx.sleep, ngx.socket (its TCP pools are the
// Root's) and ngx.thread (pdk/ngx's Threads); plus lua-resty-core's modules "ngx.re" (split) and
// "ngx.base64" (base64url). Request-bound members (ngx.var, ngx.req,
// ngx.header, ngx.say, ngx.exit) are pdk/request's.
func openNgx(in *Instance) {
	L := in.L
	t := L.NewTable()
	t.RawSetString("null", bind.Null(L))
	for k, v := range ngxStatusConsts {
		t.RawSetString(k, lua.LNumber(v))
	}
	fns := map[string]lua.LGFunction{
		"log":       in.ngxLog,
		"get_phase": func(L *lua.LState) int { L.Push(lua.LString(in.Phase)); return 1 },
		"sleep":     in.ngxSleep,
	}
	for k, f := range ngx.TimeFuncs(in.Root.now) {
		fns[k] = f
	}
	for k, f := range ngx.CodecFuncs {
		fns[k] = f
	}
	for k, f := range fns {
		t.RawSetString(k, L.NewFunction(f))
	}

	config := L.NewTable()
	config.RawSetString("subsystem", lua.LString("http"))
	config.RawSetString("ngx_lua_version", lua.LNumber(ngxLuaVersion))
	config.RawSetString("nginx_version", lua.LNumber(nginxVersion))
	config.RawSetString("debug", lua.LFalse)
	config.RawSetString("is_console", lua.LFalse)
	config.RawSetString("nginx_configure", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(""))
		return 1
	}))
	config.RawSetString("prefix", L.NewFunction(func(L *lua.LState) int {
		p := "/usr/local/kong/"
		if in.Root.Conf != nil && in.Root.Conf.Get("prefix") != "" {
			p = in.Root.Conf.Get("prefix")
		}
		L.Push(lua.LString(p))
		return 1
	}))
	t.RawSetString("config", config)

	worker := L.NewTable()
	worker.RawSetString("id", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(in.WorkerID)); return 1 }))
	worker.RawSetString("count", L.NewFunction(func(L *lua.LState) int {
		n := in.Root.WorkerCount
		if n < 1 {
			n = 1
		}
		L.Push(lua.LNumber(n))
		return 1
	}))
	worker.RawSetString("pid", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(in.Root.WorkerPID()))
		return 1
	}))
	worker.RawSetString("exiting", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LBool(in.timers != nil && in.timers.closing))
		return 1
	}))
	t.RawSetString("worker", worker)

	re := in.Root.regexCache()
	t.RawSetString("re", ngx.NewRe(L, re))
	ngx.OpenReModule(L, re)
	ngx.OpenBase64Module(L)
	ngx.OpenSemaphoreModule(L, in.phase)
	t.RawSetString("socket", ngx.NewSocket(L, &ngx.SocketEnv{
		Budget: in.budget, Pools: &in.Root.tcpPools, RootCAs: in.Root.trustedCAs, Owner: &in.sockets,
		Resolve: in.Root.Resolve, Phase: in.phase,
	}))
	t.RawSetString("shared", ngx.NewShared(L, in.Root.sharedDicts()))
	t.RawSetString("timer", in.newNgxTimer())
	in.threads = ngx.NewThreads(L, in.phase, func(msg string) { in.Log(LogErr, msg) })
	t.RawSetString("thread", in.threads.Table(L))

	// ngx.ctx is a plain field of ngx (a read is one table lookup, no Go
	// call); the host replaces it per request with Instance.SetCtx. A
	// plugin may assign ngx.ctx itself: Go reads it back with CurrentCtx.
	in.ngx = t
	t.RawSetString("ctx", in.Ctx)
	L.SetGlobal("ngx", t)
	// ngx_lua registers the table as a module too: require "ngx" is ngx
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("ngx", t)
	}
}

// now is the host clock (Root.Now in tests).
func (r *Root) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// regexCache is the Root's ngx.re pattern cache, sized by kong.conf's
// lua_regex_cache_max_entries, warning in the Root's log when full.
func (r *Root) regexCache() *ngx.RegexCache {
	r.reOnce.Do(func() {
		r.re.MaxEntries = func() int64 {
			if r.Conf == nil {
				return ngx.DefaultRegexCacheMaxEntries
			}
			return int64(r.Conf.Int("lua_regex_cache_max_entries", ngx.DefaultRegexCacheMaxEntries))
		}
		r.re.Warn = func(msg string) { r.Log(LogWarn, msg) }
	})
	return &r.re
}

// SharedDict is one ngx.shared.DICT (ngx.SharedDict).
type SharedDict = ngx.SharedDict

// DefaultSharedDicts are the lua_shared_dict zones Kong's nginx template
// declares (ngx.DefaultSharedDicts).
var DefaultSharedDicts = ngx.DefaultSharedDicts

// DefaultSharedDictSize is a dict's size when lua_shared_dicts gives none
// (ngx.DefaultSharedDictSize).
const DefaultSharedDictSize = ngx.DefaultSharedDictSize

// DefaultRegexCacheMaxEntries is lua_regex_cache_max_entries' default
// (ngx.DefaultRegexCacheMaxEntries).
const DefaultRegexCacheMaxEntries = ngx.DefaultRegexCacheMaxEntries

// sharedDicts are the Root's declared dicts, made on first use.
func (r *Root) sharedDicts() map[string]*SharedDict {
	r.dictsOnce.Do(func() { r.dicts = ngx.DeclaredDicts(r.Conf, r.now) })
	return r.dicts
}

// WorkerPID is what ngx.worker.pid() answers in every worker: Root.PID,
// else the process id.
func (r *Root) WorkerPID() int {
	if r.PID != 0 {
		return r.PID
	}
	return os.Getpid()
}

// SharedDict returns the named dict, or nil when it is not declared.
func (r *Root) SharedDict(name string) *SharedDict { return r.sharedDicts()[name] }

// SharedDictNames lists the declared dicts, sorted.
func (r *Root) SharedDictNames() []string {
	out := make([]string, 0, len(r.sharedDicts()))
	for k := range r.sharedDicts() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// phase is ngx.get_phase()'s answer now, for the bindings that check
// lua-nginx-module's contexts.
func (in *Instance) phase() string { return in.Phase }

// EnterThreads and LeaveThreads bracket a host call (a phase handler, a
// timer, a spec block): the ngx.thread light threads it spawns are its
// own, and LeaveThreads runs those still pending to their end when the
// call returned normally (finish), as ngx_lua ends a handler only once
// all its threads have, or drops them when it failed.
func (in *Instance) EnterThreads() {
	if in.threads != nil {
		in.threads.Enter()
	}
}

// LeaveThreads ends what EnterThreads began.
func (in *Instance) LeaveThreads(finish bool) {
	if in.threads != nil {
		in.threads.Leave(in.L, finish)
	}
}

// sleepContexts are where ngx.sleep works: ngx_lua's yieldable contexts,
// and init_worker, where Kong's globalpatches.lua turns it into a
// blocking sleep (in init too, which bind.ContextDisabled lets pass).
const sleepContexts = bind.Yieldable | bind.CtxInitWorker

// ngxSleep is ngx.sleep(seconds); it returns early when the state's context
// ends (the VM then raises the context's error at its next instruction).
// In header_filter, body_filter, log (and balancer) it raises ngx_lua's
// "API disabled in the context of ...".
func (in *Instance) ngxSleep(L *lua.LState) int {
	sec := float64(L.CheckNumber(1))
	if sec < 0 {
		L.ArgError(1, "invalid sleep duration \""+lua.LNumber(sec).String()+"\"")
	}
	bind.CheckContext(L, in.Phase, sleepContexts)
	d := time.Duration(sec * float64(time.Second))
	ctx := L.Context()
	if ctx == nil {
		time.Sleep(d)
		return 0
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return 0
}
