// Package pdk binds Go to Lua: the kong.* PDK and the ngx.* / cjson / resty
// shims a Kong plugin calls, each namespace in one file (ngx.go is ngx,
// cjson.go is cjson, db.go is kong.db, ...). It depends on kongdb, never on
// host.
//
// A Root holds what every worker shares (configuration, the DB, the L2 cache,
// the event bus); an Instance is one worker's LState with its own L1 cache,
// ngx.ctx and current request.
package pdk

import (
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
)

// Root is shared by all workers.
type Root struct {
	Conf   *conf.Config
	Logger *slog.Logger
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
	// built on the first OpenEvents or InstallInvalidation (events_bus.go).
	Events *events.Bus
	// ClusterEvents is kong.cluster_events (nil: an in-process one that
	// reaches no other node). Set it before the first OpenCache to have
	// cache invalidations broadcast to other nodes (cache.go).
	ClusterEvents *events.ClusterEvents
	// Budget is the per-worker memory budget in bytes (0: kong.conf's
	// lua_memory_budget, else DefaultMemoryBudget; budget.go).
	Budget int64

	budgetOnce sync.Once
	budget     int64
	levelOnce  sync.Once
	level      int
	dictsOnce  sync.Once
	dicts      map[string]*SharedDict
	reCache    sync.Map // "flags/pattern" -> *regexp.Regexp, at most reMax (ngx_re.go)
	reCount    atomic.Int64
	reMax      int64
	reOnce     sync.Once
	reFull     atomic.Bool

	httpTransports sync.Map // resty.http's connection pools (resty_http.go)
	httpTransportN atomic.Int64
	dbHooks        sync.Map // *kongdb.DAO -> struct{}: post_crud_event dispatcher installed (db.go)

	cacheOnce sync.Once // cache.go
	busOnce   sync.Once // events_bus.go
	ceOnce    sync.Once // events_cluster.go
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
	// PluginName is the plugin being run ("" outside a plugin): kong.log
	// prefixes its lines with it and kong.ctx.plugin is keyed by it.
	PluginName string

	charged int64       // bytes charged to the memory budget in this call (budget.go)
	ctxKeys ctxKeys     // private keys inside Ctx
	ngx     *lua.LTable // the ngx global table, holding ngx.ctx

	// Runner runs Lua functions of schemas (custom validators, entity
	// checks, transformations) in this worker; the host sets it to the
	// worker so that kong.db calls validate in the calling state.
	Runner schema.FuncRunner
	db     *dbState // kong.db bindings of this worker (db.go)

	caches *cacheWorker  // kong.cache / kong.core_cache of this worker (cache.go)
	events *eventsWorker // kong.worker_events of this worker (events.go)
	timers *timerQueue   // ngx.timer of this worker (ngx_timer.go)
	json   *cjsonConfig  // the Go bindings' JSON codec (cjson_go.go)

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
// file.
var namespaces = []namespace{
	{"ngx", openNgx},
	{"cjson", openCJSON},
	{"kong", openKong},
	{"kong.db.migrations.operations", openMigrationOps},
	{"resty.string", openRestyString},
	{"resty.ipmatcher", openRestyIPMatcher},
	{"resty.openssl", openRestyOpenSSL},
	{"resty.openssl.pkey", openRestyPkey},
	{"resty.redis", openRestyRedis},
	{"lfs", openLFS},
	{"lsyslog", openLSyslog},
	{"resty.http", openRestyHTTP},
}

// Open installs every namespace into L and returns the worker's instance.
func (r *Root) Open(L *lua.LState, workerID int) *Instance {
	in := &Instance{Root: r, L: L, WorkerID: workerID, Phase: "init", Ctx: L.NewTable()}
	for _, ns := range namespaces {
		ns.open(in)
	}
	return in
}

// SetCtx replaces ngx.ctx (the host calls it per request); kong.ctx.shared,
// kong.ctx.plugin and kong.log's serialize values live inside it, so they
// are reset too.
func (in *Instance) SetCtx(t *lua.LTable) {
	in.Ctx = t
	if in.ngx != nil {
		in.ngx.RawSetString("ctx", t)
	}
}

// CurrentCtx is the request's ngx.ctx, also when Lua assigned a new table to
// ngx.ctx.
func (in *Instance) CurrentCtx() *lua.LTable {
	if in.ngx != nil {
		if t, ok := in.ngx.RawGetString("ctx").(*lua.LTable); ok {
			in.Ctx = t
		}
	}
	return in.Ctx
}
