// Package host is luahost's Lua runtime: it builds Lua states, resolves
// modules (embedded shims, plugin directories, lua_package_path), loads
// plugins, keeps a pool of workers and runs Lua under deadlines. It depends
// on pdk and kongdb, never the reverse.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/request"
)

// Options configure a Host.
type Options struct {
	Conf   *conf.Config
	Logger *slog.Logger
	// NoProtoCache compiles every file again for each worker (benchmarks).
	NoProtoCache bool
	// Root, when set, is used instead of a new pdk.Root (tests, shared DB).
	Root *pdk.Root
	// NoDB skips opening the database (luahost plugins, schema checks).
	NoDB bool
	// OnDeadlineStop, when set, is told of every Lua call of a plugin that
	// lua_timeout stopped (init_worker included, hence an option): the
	// plugin and the phase ("access", "configure", "init_worker" ...).
	OnDeadlineStop func(plugin, phase string)
	// LoadMigrations reads every plugin's migrations while loading it (a
	// broken one fails the load), as `luahost check` wants; otherwise they
	// are read when a migrations command or a database needs them.
	LoadMigrations bool
	// DNS is the node's DNS client (Kong's kong.tools.dns client): the
	// workers' ngx.socket.tcp connect and ngx.socket.udp setpeername
	// resolve names through it, as Kong's globalpatches has them do. nil:
	// Go's resolver.
	DNS *dnsclient.Client
}

// Host is one luahost process's Lua side: the enabled plugins and the
// pool of workers that run them.
type Host struct {
	Conf     *conf.Config
	Root     *pdk.Root
	Logger   *slog.Logger
	Plugins  []*Plugin // by priority, highest first (ties: name, reverse)
	byName   map[string]*Plugin
	sources  []*Source
	resolver *Resolver
	cache    *protoCache
	timeout  time.Duration
	Pool     *Pool
	// SpecSetup, when set, runs in each spec file's worker before busted
	// loads (luahost test installs spec.helpers' Go bindings through it).
	SpecSetup func(in *pdk.Instance)
	// onDeadlineStop is Options.OnDeadlineStop.
	onDeadlineStop func(plugin, phase string)
	// Skipped are the bundled plugins left out for a module luahost lacks.
	Skipped []Skipped

	eagerMigrations bool
	boot            *Worker // the first worker, while New runs
}

// PluginErrors lists every plugin that failed to load.
type PluginErrors struct {
	Errs []*LoadError
}

func (e *PluginErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d plugin error(s):", len(e.Errs))
	for _, le := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(le.Error())
	}
	return b.String()
}

// Detailed is Error with a source excerpt under each error.
func (e *PluginErrors) Detailed() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d plugin error(s):\n", len(e.Errs))
	for _, le := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(le.Error())
		b.WriteString("\n")
		if ex := le.Excerpt(); ex != "" {
			b.WriteString(ex)
		}
	}
	return b.String()
}

// New discovers and loads the enabled plugins in a first worker, which
// becomes the pool's first member. Every broken plugin is reported at once
// in a *PluginErrors.
func New(opts Options) (*Host, error) {
	c := opts.Conf
	if c == nil {
		c = conf.New()
	}
	// values that do not parse are refused, not replaced by defaults
	// (Go callers and spec helpers build hosts without the CLI)
	if err := c.Check(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: LogLevel(c.Get("log_level"))}))
	}
	if n := c.Size("lua_memory_limit", 0); n > 0 {
		// The backstop behind lua_memory_budget: Go's soft limit makes the
		// collector work harder as the process nears it (what Lua builds
		// itself, string.rep and table inserts, is not budgeted).
		debug.SetMemoryLimit(int64(n))
	}
	disc, err := DiscoverConf(c)
	if err != nil {
		return nil, err
	}
	enabled, err := disc.Enabled(c.List("plugins"))
	if err != nil {
		return nil, err
	}
	root := opts.Root
	if root == nil {
		// A node id per host: two hosts are two nodes (kong.node.get_id,
		// cluster_events' node_id).
		// node_id in the configuration is that id (Kong's kong.node, with
		// its deprecation warning)
		id := strings.TrimSpace(c.Get("node_id"))
		if id == "" {
			id = uuid.NewString()
		} else {
			logger.Warn("Manually specifying a `node_id` via configuration is deprecated as of 3.9 and will be removed in the 4.x.\n" +
				"We strongly recommend avoiding this practice.\n" +
				"Please note that if specified manually it must be unique across the cluster to ensure proper functionality.")
		}
		root = &pdk.Root{Conf: c, Logger: logger, PID: os.Getpid(), NodeID: id}
	}
	if dns := opts.DNS; dns != nil && root.Resolve == nil {
		root.Resolve = func(ctx context.Context, name string, port int) (string, int, error) {
			return dns.ToIP(ctx, name, port, false)
		}
	}
	h := &Host{Conf: c, Root: root, Logger: logger, onDeadlineStop: opts.OnDeadlineStop, sources: enabled, resolver: disc.Resolver,
		byName: map[string]*Plugin{}, timeout: time.Duration(c.Int("lua_timeout", 5000)) * time.Millisecond,
		eagerMigrations: opts.LoadMigrations}
	if !opts.NoProtoCache {
		h.cache = &protoCache{}
	}
	if root.Deprecated == nil {
		root.Deprecated = h.WarnDeprecated
	}
	minW, maxW := workerBounds(c)
	root.WorkerCount = maxW
	// The storage (and, on PostgreSQL, cluster events) opens before the
	// first worker: its caches subscribe to cluster invalidations when they
	// are created.
	var conn kongdb.Connector
	if !opts.NoDB && root.DB == nil {
		if conn, err = h.openStorage(); err != nil {
			return nil, err
		}
	}
	first, descs, errs := h.loadWorker(0, true)
	h.boot = first
	// kong.configuration.loaded_plugins: the plugins loaded (a bundled
	// one skipped for a module luahost lacks is not), from init_worker on
	root.LoadedPlugins = make([]string, 0, len(descs))
	for _, p := range descs {
		root.LoadedPlugins = append(root.LoadedPlugins, p.Name)
	}
	defer func() { h.boot = nil }()
	if len(errs) == 0 && conn != nil {
		errs = h.openDB(conn, descs)
	} else if conn != nil {
		h.closeStorage(conn)
	}
	if len(errs) == 0 {
		errs = h.initWorker(first)
	}
	if len(errs) > 0 {
		if first != nil {
			first.Close()
		}
		return nil, &PluginErrors{Errs: errs}
	}
	h.Plugins = descs
	for _, p := range descs {
		h.byName[p.Name] = p
	}
	h.Pool = newPool(h, minW, maxW, first)
	root.InWorker = h.inWorker
	root.LiveWorkers = h.Pool.liveIDs
	return h, nil
}

// inWorker lends a worker to Go code that must run Lua (a custom DAO's
// post_crud_event after an Admin API write). It waits a short while at
// most: the writer may itself hold the last worker.
func (h *Host) inWorker(fn func(*pdk.Instance)) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	w, err := h.Pool.Acquire(ctx)
	if err != nil {
		return false
	}
	defer h.Pool.Release(w)
	if ctx, changed := w.dl.renew(); changed {
		luavm.SetContext(w.L, ctx)
	}
	w.dl.arm(w.timeout)
	defer w.dl.disarm()
	fn(w.In)
	return true
}

// openStorage opens the configured connector and, on PostgreSQL, the
// node's cluster events.
func (h *Host) openStorage() (kongdb.Connector, error) {
	conn, err := openConnector(context.Background(), h)
	if err != nil {
		return nil, err
	}
	if pg, ok := conn.(*postgres.Connector); ok && h.Root.ClusterEvents == nil {
		ce, err := openClusterEvents(h, pg)
		if err != nil {
			pg.Close()
			return nil, fmt.Errorf("cluster events: %w", err)
		}
		h.Root.ClusterEvents = ce
	}
	return conn, nil
}

func (h *Host) closeStorage(conn kongdb.Connector) {
	if h.Root.ClusterEvents != nil {
		h.Root.ClusterEvents.Close()
	}
	_ = conn.Close()
}

// openDB checks the database's migrations and registers the plugins'
// entities and config schemas on it (Kong's init phase).
func (h *Host) openDB(conn kongdb.Connector, descs []*Plugin) []*LoadError {
	if pg, ok := conn.(*postgres.Connector); ok {
		if err := h.checkSchemaState(pg, descs); err != nil {
			h.closeStorage(conn)
			return []*LoadError{{Phase: "database", Msg: err.Error(), Err: err}}
		}
	}
	db := kongdb.New(conn, kongdb.DBOptions{})
	if errs := h.buildDB(db, descs); len(errs) > 0 {
		h.closeStorage(conn)
		return errs
	}
	h.Root.DB = db
	h.Root.InstallDBHooks()
	h.Root.InstallVault()
	h.Root.InstallInvalidation()
	return nil
}

func workerBounds(c *conf.Config) (int, int) {
	maxW := c.Int("worker_max", 0)
	if maxW <= 0 {
		maxW = c.Int("nginx_worker_processes", 0)
	}
	if maxW <= 0 {
		maxW = 2 * numCPU()
	}
	minW := c.Int("worker_min", 1)
	if minW < 1 {
		minW = 1
	}
	if minW > maxW {
		minW = maxW
	}
	return minW, maxW
}

// Plugin returns the description of an enabled plugin.
func (h *Host) Plugin(name string) *Plugin { return h.byName[name] }

// newWorker builds a worker ready to serve: plugins loaded, kong.db
// installed, init_worker run.
func (h *Host) newWorker(id int, build bool) (*Worker, []*Plugin, []*LoadError) {
	w, descs, errs := h.loadWorker(id, build)
	if len(errs) == 0 {
		errs = h.initWorker(w)
	}
	return w, descs, errs
}

// loadWorker builds a state and loads every enabled plugin in it. With
// build it returns the plugin descriptions.
func (h *Host) loadWorker(id int, build bool) (*Worker, []*Plugin, []*LoadError) {
	// the registry grows by 4K slots: by gopher-lua's default 32, filling it
	// (unpack of a million values) costs seconds of copying, outside any
	// deadline check
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 1024 * 4, RegistryMaxSize: 1024 * 256, RegistryGrowStep: 1024 * 4, CallStackSize: 256})
	prot := openStdlibs(L)
	w := &Worker{ID: id, L: L, prot: prot, host: h, byName: map[string]*loadedPlugin{}, funcs: map[string]lua.LValue{},
		dl: newDeadline(), timeout: h.timeout}
	dog.add(w.dl)
	luavm.SetContext(L, w.dl.ctx)
	// Compilation is not the request's: its time is not charged to the
	// deadline of the call that required the module (a large file would
	// otherwise be reported as a runaway), and its size is bounded instead.
	installLoader(L, h.resolver, func(m *Module) (*lua.FunctionProto, error) {
		defer w.dl.pause()()
		return h.compileModule(m)
	})
	L.PreloadModule("luahost.builtin", openBuiltin)
	w.In = h.Root.Open(L, id)
	// the request PDK (kong.request, kong.response, ngx.var ...) before the
	// plugins load: a handler may keep its functions in locals
	w.req = request.Open(w.In)
	// kong.db.schema must be requirable while plugins load (their
	// schema.lua / daos.lua may call it); kong.db itself comes once the DB
	// exists (installDB).
	w.In.Runner = w
	w.In.Call = w.call // timers run under the worker's own deadline
	pdk.OpenDB(w.In)
	pdk.OpenCache(w.In)
	pdk.OpenEvents(w.In)
	pdk.OpenClusterEvents(w.In)
	// the names plugins read (kong.service.request.clear_header,
	// kong.cache's methods) share their bytes with the compiled code's
	luavm.InternKeys(L.G.Global, 4)

	var descs []*Plugin
	var errs []*LoadError
	before := loadedModules(L)
	defer func() { w.pluginModules = addedModules(L, before) }()
	kept := h.sources[:0:0]
	for _, src := range h.sources {
		lp, desc, perrs := w.loadPlugin(src, build)
		if len(perrs) > 0 {
			if mod, ok := skippable(src, perrs); ok && build {
				h.Logger.Warn("bundled plugin not loaded: it needs a module luahost lacks", "plugin", src.Name, "module", mod, "error", perrs[0].Msg)
				h.Skipped = append(h.Skipped, Skipped{Name: src.Name, Module: mod, Err: perrs[0]})
				continue
			}
			errs = append(errs, perrs...)
			continue
		}
		kept = append(kept, src)
		if !build {
			desc = h.byName[src.Name]
			lp.desc = desc
		}
		descs = append(descs, desc)
		for i, n := range phaseNames {
			lp.fns[i] = lp.phaseFns[n]
		}
		lp.configure = lp.phaseFns["configure"]
		w.plugins = append(w.plugins, lp)
		w.byName[src.Name] = lp
	}
	if len(errs) > 0 {
		return w, nil, errs
	}
	if build {
		h.sources = kept // later workers load only what the first one kept
	}
	sortByPriority(descs)
	sort.SliceStable(w.plugins, func(i, j int) bool { return lessPriority(w.plugins[i].desc, w.plugins[j].desc) })
	return w, descs, nil
}

// initWorker installs what needs the DB and runs every plugin's
// init_worker in priority order. Kong logs a failing init_worker and goes
// on; a runaway one fails the worker.
func (h *Host) initWorker(w *Worker) []*LoadError {
	h.installDB(w)
	if le := h.installLegacyHooks(w); le != nil {
		return []*LoadError{le}
	}
	w.In.Phase = "init_worker"
	h.warmCache(w)
	defer func() {
		w.In.SetPluginName("")
		w.In.Phase = "init"
		// the first request gets an ngx.ctx of its own, as every later one
		// does (Pool.Release)
		w.In.SetCtx(w.L.NewTable())
	}()
	for _, lp := range w.plugins {
		fn, ok := lp.phaseFns["init_worker"]
		if !ok {
			continue
		}
		w.In.SetPluginName(lp.desc.Name)
		if err := w.call(fn, 0, lp.handler); err != nil {
			le := w.errorOf(lp.desc.Name, "init_worker", err)
			// Kong's init_worker stashes the error and logs it at crit
			msg := le.Msg
			if le.File != "" {
				msg = le.File + ":" + strconv.Itoa(le.Line) + ": " + msg
			}
			h.Root.Log(pdk.LogCrit, `worker initialization error: failed to execute the "init_worker" handler for plugin "`+
				lp.desc.Name+`": `+msg+"; this node must be restarted")
			var te *TimeoutError
			if errors.As(err, &te) {
				return []*LoadError{le}
			}
		}
	}
	return nil
}

func sortByPriority(ps []*Plugin) {
	sort.SliceStable(ps, func(i, j int) bool { return lessPriority(ps[i], ps[j]) })
}

// lessPriority: PRIORITY descending; ties by name in reverse alphabetical
// order (Kong 3.x).
func lessPriority(a, b *Plugin) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return a.Name > b.Name
}

func sortStrings(s []string) { sort.Strings(s) }

// openStdlibs opens Lua's standard libraries (everything gopher-lua has but
// its channel library).
func openStdlibs(L *lua.LState) *luavm.Protector {
	return luavm.OpenLibs(L, nil)
}

// openBuiltin is the module luahost.builtin: indexing it by a name gives a
// marker for the Go validator of that name (kongdb/schema builtins), used
// by typedefs.lua as custom_validator.
func openBuiltin(L *lua.LState) int {
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		ud := L.NewUserData()
		ud.Value = &schema.Func{Ref: "builtin:" + name}
		L.RawSet(L.CheckTable(1), lua.LString(name), ud)
		L.Push(ud)
		return 1
	}))
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

// LogLevel maps Kong's log_level names to slog levels.
func LogLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "info", "notice":
		return slog.LevelInfo
	case "warn":
		return slog.LevelWarn
	case "error", "crit", "alert", "emerg":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Close stops the pool and closes the database.
func (h *Host) Close() {
	h.Pool.Close()
	if h.Root.ClusterEvents != nil {
		h.Root.ClusterEvents.Close()
	}
	if h.Root.DB != nil {
		_ = h.Root.DB.Close()
	}
}
