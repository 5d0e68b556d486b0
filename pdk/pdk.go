// Package pdk binds Go to Lua: it is the core every worker's Lua state is
// opened by (Root.Open) and where Kong's PDK namespaces that hang on worker
// state live. It depends on kongdb, never on host.
//
// A Root holds what every worker shares (configuration, the DB, the L2
// cache, the event bus, the shared dicts, the library pools); an Instance
// is one worker's LState with its own L1 cache, ngx.ctx, timers, memory
// budget and current request.
//
// What lives where (DESIGN.md, "pdk's shape"):
//
//   - pdk (this package): Root, Instance and the ordered list of
//     namespaces (pdk.go); the worker's log, shared by ngx.log and kong.log
//     (ngx_log.go); the ngx table of a worker (ngx.go, ngx_timer.go);
//     Kong's PDK namespaces that keep worker state, one file (or file
//     prefix) each: kong.go (the kong table, kong.table), node.go
//     (kong.node), cluster.go, vault.go, tracing.go, telemetry.go,
//     ctx.go, configuration.go, log*.go (kong.log's
//     facilities and formats), db*.go (kong.db, its DAOs,
//     schemas, errors, connector, migrations operations), cache*.go
//     (kong.cache, kong.core_cache, resty.mlcache), worker_events*.go,
//     cluster_events.go, invalidation.go (CRUD events to caches and
//     nodes); json.go (the Go bindings' JSON codec); values.go (names of
//     the packages below re-exported for host and pdk/request).
//   - pdk/bind: the layer every binding shares: Lua <-> Go values,
//     ngx.null and array_mt, argument checks, the memory budget, cosocket
//     timeouts.
//   - pdk/ngx: the ngx.* parts with no worker state (codecs, ngx.re,
//     ngx.shared, the clock).
//   - pdk/lib/<module>: the libraries plugins require (cjson, resty.http,
//     resty.redis, resty.openssl, resty.string, resty.ipmatcher, lfs,
//     lsyslog, LuaJIT's table.*, luahost.native), one package each.
//   - pdk/request: the request-bound namespaces (kong.request, ngx.var,
//     ...), opened by the host per worker beside Root.Open.
//   - pdk/pdktest: the test kit for the packages above pdk's core.
//
// The binding packages (bind, ngx, lib/...) import pdk/bind, luavm and
// kongdb, never pdk: pdk imports them and lists each in namespaces with
// what it takes from the worker (TestLayers keeps it so). pdk/request and
// pdk/pdktest sit above pdk and import it.
package pdk

import (
	"crypto/x509"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/lib/cjson"
	"github.com/luahost/luahost/pdk/lib/lfs"
	"github.com/luahost/luahost/pdk/lib/lsyslog"
	"github.com/luahost/luahost/pdk/lib/luajit"
	"github.com/luahost/luahost/pdk/lib/native"
	"github.com/luahost/luahost/pdk/lib/restyhttp"
	"github.com/luahost/luahost/pdk/lib/restyipmatcher"
	"github.com/luahost/luahost/pdk/lib/restyopenssl"
	"github.com/luahost/luahost/pdk/lib/restyredis"
	"github.com/luahost/luahost/pdk/lib/restyshell"
	"github.com/luahost/luahost/pdk/lib/restystring"
	"github.com/luahost/luahost/pdk/ngx"
)

// Root is shared by all workers.
type Root struct {
	Conf   *conf.Config
	Logger *slog.Logger
	// Deprecated logs the warning of a value given for a deprecated schema
	// field (Kong's kong.deprecation), in every kong.db write; nil: none.
	Deprecated schema.DeprecationHandler
	// WorkerCount is ngx.worker.count().
	WorkerCount int
	// PID is ngx.worker.pid() (0: the process id).
	PID int
	// Version is kong.version and kong.meta's version ("" = DefaultVersion).
	Version string
	// NodeID is kong.node.get_id() ("" = one random UUID per process).
	NodeID string
	// Now, when set, replaces time.Now for ngx.now/ngx.time and shared dict
	// expiry (tests).
	Now func() time.Time
	// DB is kong.db's data layer, shared by every worker (nil: no kong.db).
	DB *kongdb.DB
	// InWorker, when set, runs fn in some worker's state (the host borrows
	// one from its pool) and reports whether it could. kong.db uses it to
	// run a custom DAO module's post_crud_event for writes that do not come
	// from a worker (Admin API, Go callers). It must not wait forever: the
	// writer may itself hold the last worker.
	InWorker func(fn func(in *Instance)) bool
	// Cache and CoreCache are the L2 of kong.cache and kong.core_cache;
	// nil ones are built from Conf on the first OpenCache (cache.go).
	Cache, CoreCache *cache.Cache
	// Events is the node's worker-event bus (kong.worker_events); nil is
	// built on the first OpenEvents or InstallInvalidation (worker_events_bus.go).
	Events *events.Bus
	// ClusterEvents is kong.cluster_events (nil: an in-process one that
	// reaches no other node). Set it before the first OpenCache to have
	// cache invalidations broadcast to other nodes (cache.go).
	ClusterEvents *events.ClusterEvents
	// Budget is the per-worker memory budget in bytes (0: kong.conf's
	// lua_memory_budget, else DefaultMemoryBudget; budget.go).
	Budget int64
	// Resolve, when set, resolves the host names that ngx.socket.tcp's
	// connect and ngx.socket.udp's setpeername are given, and so those of
	// resty.http and resty.redis: the host sets the node's DNS client here,
	// as Kong's globalpatches makes the cosockets use its toip. nil: Go's
	// resolver.
	Resolve bind.Resolver
	// LiveWorkers, when set, lists the ids of the host's live worker
	// states: kong.node.get_memory_stats reports one Lua VM each (node.go).
	// nil: the calling worker alone.
	LiveWorkers func() []int
	// LoadedPlugins, when set, are the names of the plugins the host
	// loaded: kong.configuration.loaded_plugins is their set, as Kong's is
	// the plugins its node runs (`plugins` with "bundled" expanded). nil:
	// the names `plugins` lists.
	LoadedPlugins []string

	budgetOnce sync.Once
	budget     int64
	levelOnce  sync.Once
	level      int
	dictsOnce  sync.Once
	dicts      map[string]*SharedDict
	re         ngx.RegexCache // ngx.re's compiled patterns (ngx.go)
	reOnce     sync.Once

	secrets    vaultCache           // kong.vault's resolved references (vault.go)
	httpPools  restyhttp.Transports // resty.http's connection pools
	redisPools restyredis.Pools     // resty.redis's idle connections
	tcpPools   ngx.TCPPools         // ngx.socket.tcp's keepalive pools
	casOnce    sync.Once            // trustedCAs
	cas        *x509.CertPool
	dbHooks    sync.Map // *kongdb.DAO -> struct{}: post_crud_event dispatcher installed (db.go)

	timersMu     sync.Mutex
	timerQueues  map[*timerQueue]struct{} // every open worker's timers (timer_stats.go)
	timerCounter atomic.Uint64            // timer-ng's name counter (kong_timer.go)

	cacheOnce sync.Once // cache.go
	cacheGets atomic.Pointer[CacheObserver]
	busOnce   sync.Once // worker_events_bus.go
	ceOnce    sync.Once // cluster_events.go
	ceSubs    sync.Map  // channel -> struct{}: Go subscription forwarding to workers
}

// Instance is one worker's binding state.
type Instance struct {
	Root     *Root
	L        *lua.LState
	WorkerID int
	// Phase is what ngx.get_phase() answers ("init", "init_worker",
	// "access", "timer", ...); the host sets it around each call.
	Phase string
	// Ctx is ngx.ctx for the current request (reset after each request).
	// kong.ctx.shared, kong.ctx.plugin and kong.log's serialize values live
	// inside it (under private keys), so replacing Ctx resets them too.
	Ctx *lua.LTable
	// plugin is the plugin being run ("" outside a plugin; PluginName,
	// SetPluginName): kong.log is its facility and kong.ctx.plugin is keyed
	// by it.
	plugin string
	// RequestID is the proxied request the worker serves ("" outside
	// one; pdk/request sets it): every line the worker logs meanwhile
	// carries it (Kong's lua_kong_error_log_request_id).
	RequestID string

	budget *bind.Budget // the memory budget of this worker (budget.go)
	// sockets is the context the worker runs now, owning the cosockets
	// connected in it (SwitchCosockets).
	sockets bind.CosocketOwner
	ctxKeys ctxKeys     // private keys inside Ctx
	logs    *kongLogs   // kong.log's facilities (log.go)
	kong    *lua.LTable // the kong global table, holding kong.log
	ngx     *lua.LTable // the ngx global table, holding ngx.ctx
	// ngxCtxNil: ngx's raw "ctx" field is known to be nil (a lazy ctx
	// attached, ctx_lazy.go)
	ngxCtxNil bool
	rc        *ReqCtx // the attached request's ngx.ctx (ctx_lazy.go)
	lazyCtx   bool    // reading ngx.ctx reaches CurrentCtx (EnableLazyCtx)

	// Runner runs Lua functions of schemas (custom validators, entity
	// checks, transformations) in this worker; the host sets it to the
	// worker so that kong.db calls validate in the calling state.
	Runner schema.FuncRunner
	db     *dbState // kong.db bindings of this worker (db.go)

	caches  *cacheWorker  // kong.cache / kong.core_cache of this worker (cache.go)
	events  *eventsWorker // kong.worker_events of this worker (worker_events.go)
	timers  *timerQueue   // ngx.timer of this worker (ngx_timer.go)
	threads *ngx.Threads  // ngx.thread of this worker
	json    *cjson.Codec  // the Go bindings' JSON codec (json.go)

	// Call, when set, runs a Lua function of this worker the way the host
	// runs plugin code (under its deadline), leaving nret results on the
	// stack; ngx.timer callbacks use it (nil: a plain protected call).
	Call func(fn lua.LValue, nret int, args ...lua.LValue) error
}

// namespace installs one Lua namespace into an instance.
type namespace struct {
	name string
	open func(in *Instance)
}

// namespaces is the ordered, explicit list of what a worker gets (Kong's
// kong/pdk/init.lua MAJOR_MODULES in spirit). Each entry lives in its own
// file of pdk or in its own package, and says here what it takes from the
// worker (its LState, memory budget, clock, a pool kept on the Root).
var namespaces = []namespace{
	{"ngx", openNgx},
	{"cjson", func(in *Instance) { cjson.Open(in.L, in.budget) }},
	{"kong", openKong},
	{"resty.timerng", openTimerng},
	{"table.* (LuaJIT)", func(in *Instance) { luajit.Open(in.L, in.budget) }},
	{"bit (LuaJIT)", func(in *Instance) { luajit.OpenBit(in.L) }},
	{"luahost.native", func(in *Instance) { native.Open(in.L, in.Root.VersionString, in.budget, in.Root.now) }},
	{"kong.db.migrations.operations", openMigrationOps},
	{"kong.conf_loader", openConfLoader},
	{"resty.string", func(in *Instance) { restystring.Open(in.L, in.budget) }},
	{"resty.ipmatcher", func(in *Instance) { restyipmatcher.Open(in.L) }},
	{"resty.openssl", func(in *Instance) { restyopenssl.Open(in.L) }},
	{"resty.openssl.pkey", func(in *Instance) { restyopenssl.OpenPkey(in.L) }},
	{"resty.openssl.x509", func(in *Instance) { restyopenssl.OpenX509(in.L) }},
	{"resty.openssl.kdf", func(in *Instance) { restyopenssl.OpenKdf(in.L) }},
	{"resty.redis", func(in *Instance) { restyredis.Open(in.L, &in.Root.redisPools, &in.sockets, in.Root.Resolve, in.phase) }},
	{"lfs", func(in *Instance) { lfs.Open(in.L) }},
	{"lsyslog", func(in *Instance) { lsyslog.Open(in.L) }},
	{"resty.http", func(in *Instance) { restyhttp.Open(in.L, in.budget, &in.Root.httpPools, in.Root.Resolve, in.phase) }},
	{"resty.shell", func(in *Instance) { restyshell.Open(in.L, in.phase) }},
}

// Open installs every namespace into L and returns the worker's instance.
func (r *Root) Open(L *lua.LState, workerID int) *Instance {
	in := &Instance{Root: r, L: L, WorkerID: workerID, Phase: "init", Ctx: L.NewTable(), budget: bind.NewBudget(r.MemoryBudget)}
	for _, ns := range namespaces {
		ns.open(in)
	}
	return in
}

// SetCtx replaces ngx.ctx (the host calls it per request); kong.ctx.shared,
// kong.ctx.plugin and kong.log's serialize values live inside it, so they
// are reset too.
func (in *Instance) SetCtx(t *lua.LTable) {
	in.rc = nil
	in.Ctx = t
	if in.ngx != nil {
		in.ngx.RawSetString("ctx", t)
		in.ngxCtxNil = t == nil
	}
}

// CurrentCtx is the request's ngx.ctx, also when Lua assigned a new table to
// ngx.ctx.
func (in *Instance) CurrentCtx() *lua.LTable {
	if in.ngx != nil {
		if t, ok := in.ngx.RawGetString("ctx").(*lua.LTable); ok {
			if rc := in.rc; rc != nil && rc.t != t {
				in.AssignCtx(t)
			}
			in.Ctx = t
			return t
		}
	}
	if rc := in.rc; rc != nil && rc.t == nil {
		// a request's ngx.ctx wanted as a table: made now (ctx_lazy.go)
		in.Ctx = rc.make(in.L)
		if in.ngx != nil {
			in.ngx.RawSetString("ctx", in.Ctx)
			in.ngxCtxNil = false
		}
	} else if in.Ctx == nil {
		// outside a request, after one whose ngx.ctx was never made
		// (DetachCtx): a table of its own for whoever asks (a worker
		// event's handler, a timer)
		in.Ctx = in.L.NewTable()
		if in.ngx != nil {
			in.ngx.RawSetString("ctx", in.Ctx)
			in.ngxCtxNil = false
		}
	}
	return in.Ctx
}

// CtxState is what SaveCtx saved: the request's ReqCtx, or a table.
type CtxState struct {
	rc *ReqCtx
	t  *lua.LTable
}

// SaveCtx is ngx.ctx as it is now, for RestoreCtx (a timer run in the
// middle of a request's phase gets its own ngx.ctx, then the request its).
func (in *Instance) SaveCtx() CtxState {
	if in.rc != nil && in.lazy() != nil {
		return CtxState{rc: in.rc}
	}
	return CtxState{rc: in.rc, t: in.CurrentCtx()}
}

// RestoreCtx puts back what SaveCtx saved.
func (in *Instance) RestoreCtx(st CtxState) {
	if st.rc != nil {
		if st.t != nil {
			st.rc.t = st.t
		}
		in.AttachCtx(st.rc)
		return
	}
	in.SetCtx(st.t)
}
