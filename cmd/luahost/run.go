package main

// luahost run (and start, Kong's name for it): the proxy node.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/luahost/luahost/admin"
	"github.com/luahost/luahost/check"
	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/logging"
	"github.com/luahost/luahost/metrics"
	"github.com/luahost/luahost/proxy"
	"github.com/luahost/luahost/router"
)

// DefaultShutdownTimeout bounds how long in-flight requests may take to
// finish after SIGINT/SIGTERM (Kong's `kong quit` waits 10 s by default);
// the luahost_shutdown_timeout property (seconds) overrides it.
const DefaultShutdownTimeout = 10 * time.Second

// node is a running proxy node (handed to tests through runOpts.ready).
type node struct {
	Host    *host.Host
	Runloop *host.Runloop
	Proxy   *proxy.Proxy
	Server  *proxy.Server
	Router  *router.Versioned
	// Config serves the Admin API's /config (POST replaces the embedded
	// store's configuration, GET exports it): mount it at "/config".
	Config *declarative.Handler
	// Metrics is what the proxy and host feed (requests, cache gets,
	// deadline stops); /metrics on status_listen serves it.
	Metrics     *metrics.Recorder
	StatusAddrs []net.Addr // status_listen's addresses (none when off)
	// AccessLog is proxy_access_log (Kong's kong_log_format), fed one line
	// per request after the plugins' log phase (ops_phases.go);
	// AdminAccessLog is admin_access_log, fed by the Admin API's Log hook.
	// Both are nil when off (and their methods then do nothing).
	AccessLog, AdminAccessLog *logging.AccessLog
	// Admin is the Admin API (nil when admin_listen is off).
	Admin *admin.Server
	// Rebuilder rebuilds Router (tests rebuild at once instead of waiting).
	Rebuilder *proxy.Rebuilder
	// Certificates are the ssl listeners' certificates (nil without an
	// ssl entry in proxy_listen).
	Certificates *proxy.Certificates
	// Balancers are the upstreams' ring-balancers (tests rebuild them at
	// once instead of waiting, as Rebuilder).
	Balancers *balancers
}

type runOpts struct {
	signals <-chan os.Signal // nil: SIGINT and SIGTERM of the process
	ready   func(*node)      // called once listening
	exit    func(code int)   // a second signal: exit at once (default os.Exit)
	// onPhase is the plugins iterator's OnPhase (luahost test's trace)
	onPhase func(c *proxy.Context, plugin, phase string, exited bool, err error)
	// dnsMock is start_kong's fixtures.dns_mock (nil: none)
	dnsMock *dnsclient.Mock
}

func cmdRun(c *conf.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "Error: run takes no argument (got %q)\n", strings.Join(args, " "))
		return 1
	}
	return runNode(c, stdout, stderr, runOpts{})
}

// oneLine makes an error message one line (the CLI's errors are read in
// terminals and logs, one line each).
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// hostError is the one line saying why the host could not start.
func hostError(err error) string {
	var pe *host.PluginErrors
	if !errors.As(err, &pe) {
		return oneLine(err.Error())
	}
	var msgs []string
	for _, le := range pe.Errs {
		if le.Phase == "database" {
			msg := le.Msg
			switch {
			case strings.HasPrefix(msg, "Database needs bootstrapping"):
				return "database needs bootstrapping (or is older than Kong 1.0): run 'luahost migrations bootstrap'"
			case strings.HasPrefix(msg, "New migrations available"):
				_, list, _ := strings.Cut(msg, "\n")
				return "database has new migrations (" + oneLine(list) + "): run 'luahost migrations up'"
			}
			return "database: " + oneLine(msg)
		}
		msgs = append(msgs, oneLine(le.Error()))
	}
	return fmt.Sprintf("%d plugin error(s): %s (details: luahost plugins)", len(msgs), strings.Join(msgs, "; "))
}

// listenNote is what the "listening on" lines add for an entry's flags.
func listenNote(l proxy.Listener) string {
	switch {
	case l.SSL && l.HTTP2:
		return " (ssl, http2)"
	case l.SSL:
		return " (ssl)"
	case l.HTTP2:
		return " (http2)"
	}
	return ""
}

// listenTLS is the TLS configuration of a listener kind's ssl entries
// (prefix "admin_", "status_": sslCertificates), nil when ls has none. Of
// several certificates, a handshake gets the first its client supports, as
// nginx with several ssl_certificate directives.
func listenTLS(c *conf.Config, prefix string, ls []proxy.Listener) (*tls.Config, error) {
	for _, l := range ls {
		if l.SSL {
			certs, err := sslCertificates(c, prefix)
			if err != nil {
				return nil, err
			}
			conf := proxy.ServerTLSConfig(nil)
			conf.Certificates = certs
			return conf, nil
		}
	}
	return nil, nil
}

// proxyConfig reads the proxy's settings from kong.conf.
func proxyConfig(c *conf.Config, h *host.Host) (proxy.Config, error) {
	pc := proxy.Config{
		KongVersion:      h.Root.VersionString(),
		RealIPHeader:     c.Get("real_ip_header"),
		RealIPRecursive:  c.Bool("real_ip_recursive"),
		AllowDebugHeader: c.Bool("allow_debug_header"),
		ErrorDefaultType: c.Get("error_default_type"),
		Logger:           h.Logger,
	}
	if db := h.Root.DB; db != nil {
		pc.CACertificate = caCertificateLookup(db)
		pc.ClientCertificate = clientCertificateLookup(db)
	}
	if c.Has("headers") {
		pc.Headers = c.List("headers")
		if pc.Headers == nil {
			pc.Headers = []string{}
		}
	}
	if c.Has("headers_upstream") {
		pc.HeadersUpstream = c.List("headers_upstream")
		if pc.HeadersUpstream == nil {
			pc.HeadersUpstream = []string{}
		}
	}
	size := "nginx_http_client_max_body_size"
	if !c.Has(size) {
		size = "client_max_body_size"
	}
	pc.ClientMaxBodySize = c.Size(size, 0)
	size = "nginx_http_client_body_buffer_size"
	if !c.Has(size) {
		size = "client_body_buffer_size"
	}
	pc.ClientBodyBufferSize = c.Size(size, 8<<10)
	ips, err := proxy.ParseTrustedIPs(c.List("trusted_ips"))
	if err != nil {
		return pc, fmt.Errorf("trusted_ips: %v", err)
	}
	pc.TrustedIPs = ips
	return pc, nil
}

// loadAll reads every row of an entity, all pages, every workspace.
func loadAll(ctx context.Context, db *kongdb.DB, name string) ([]map[string]any, error) {
	d := db.DAO(name)
	if d == nil {
		return nil, fmt.Errorf("no %s DAO", name)
	}
	// Kong's GLOBAL_QUERY_OPTS: every workspace, ws_id kept (the router
	// sets ngx.ctx.workspace from route.ws_id, and ngx.ctx.route and
	// ngx.ctx.service, which kong.log.serialize copies, have it)
	it, err := d.Each(ctx, 1000, map[string]any{"workspace": schema.Null, "show_ws_id": true})
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for row, err := range it {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// loadRouterRows reads every route and service, all pages, every
// workspace.
func loadRouterRows(db *kongdb.DB) func(ctx context.Context) ([]map[string]any, []map[string]any, error) {
	return func(ctx context.Context) ([]map[string]any, []map[string]any, error) {
		routes, err := loadAll(ctx, db, "routes")
		if err != nil {
			return nil, nil, err
		}
		services, err := loadAll(ctx, db, "services")
		if err != nil {
			return nil, nil, err
		}
		return routes, services, nil
	}
}

// watchRouter triggers a rebuild on this node's routes/services CRUD
// events (the bus's Go handlers) and on the invalidation of
// "router:version" in kong.core_cache, which is how other nodes' writes
// arrive (cluster_events carries cache keys, not CRUD events). It returns
// the function that stops watching.
func watchRouter(h *host.Host, b *proxy.Rebuilder) func() {
	var stops []func()
	if bus := h.Root.Events; bus != nil {
		id := bus.Register(func(ev events.Event) error {
			if strings.HasPrefix(ev.Event, "routes") || strings.HasPrefix(ev.Event, "services") {
				b.Trigger()
			}
			return nil
		}, "crud")
		stops = append(stops, func() { bus.Unregister(id) })
	}
	if cc := h.Root.CoreCache; cc != nil {
		stops = append(stops, cc.OnInvalidate(func(key string) {
			if key == "router:version" {
				b.Trigger()
			}
		}))
		// a purge follows a declarative reload (POST /config), whose CRUD
		// events may have triggered rebuilds that read the configuration
		// before it was whole (kongdb.Isolator): rebuild from the new one
		stops = append(stops, cc.OnPurge(b.Trigger))
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

func runNode(c *conf.Config, stdout, stderr io.Writer, o runOpts) int {
	fail := func(msg string) int {
		fmt.Fprintln(stderr, "Error:", msg)
		return 1
	}
	listeners, err := proxy.ParseListen("proxy_listen", c.Get("proxy_listen"))
	if err != nil {
		return fail(err.Error())
	}
	adminListeners, err := proxy.ParseListen("admin_listen", c.Get("admin_listen"))
	if err != nil {
		return fail(err.Error())
	}
	adminTLS, err := listenTLS(c, "admin_", adminListeners)
	if err != nil {
		return fail(oneLine(err.Error()))
	}
	logs, err := openLogs(c, stdout, stderr)
	if err != nil {
		return fail(err.Error())
	}
	defer logs.Close()
	start := newStartupHandler(logging.NewErrorLog(logs.errorLog, host.LogLevel(c.Get("log_level"))))
	logger := slog.New(start)
	// the recorder exists before the host: init_worker's deadline stops
	// are counted too
	rec := metrics.New()
	// The node's DNS client (Kong's, set up in init): the proxy, the
	// balancers and the workers' cosockets resolve through it.
	dns, err := newDNS(c, logger, o.dnsMock)
	if err != nil {
		start.release(false)
		return fail("could not set up the DNS client: " + err.Error())
	}
	h, err := host.New(host.Options{Conf: c, Logger: logger, OnDeadlineStop: rec.DeadlineStop, DNS: dns})
	start.release(err == nil)
	if err != nil {
		return fail(hostError(err))
	}
	defer h.Close()
	if h.Root.DB == nil {
		return fail("no database opened")
	}
	watchHost(rec, h)
	h.Root.DB.SetQueryObserver(rec.ObserveDBQuery)
	defer h.Root.DB.SetQueryObserver(nil)
	// Kong DB-less: the embedded store starts with declarative_config
	// (every error listed, nothing loaded on error); it stays writable.
	cfgHandler := declarative.NewHandler(h.Root.DB)
	cfgHandler.Logger = logger
	cfgHandler.Reloaded = func() {
		for _, cc := range []*cache.Cache{h.Root.Cache, h.Root.CoreCache} {
			if cc != nil {
				cc.Purge()
			}
		}
	}
	if h.Root.DB.Strategy() == "off" {
		hash, err := loadDeclarative(schema.WithFuncRunner(context.Background(), h.FuncRunner()), c, h.Root.DB)
		if err != nil {
			name := c.Get("declarative_config")
			if name == "" {
				name = "declarative_config_string"
			}
			return failParse(stderr, name, err)
		}
		cfgHandler.SetHash(hash)
	}
	if c.Bool("audit_cache") {
		audit := check.NewCacheAudit(h.Root.Cache)
		defer func() { audit.Stop(); audit.WriteReport(stderr, 100) }()
	}
	pc, err := proxyConfig(c, h)
	if err != nil {
		return fail(err.Error())
	}
	rt := &router.Versioned{}
	rb := proxy.NewRebuilder(rt, loadRouterRows(h.Root.DB))
	if strings.TrimSpace(c.Get("router_flavor")) == "traditional" {
		// Kong's traditional router: path_handling v1, created_at ties
		rb.Options = []router.Option{router.WithTraditional()}
	}
	rb.OnRebuild = func(v uint64, err error) {
		if err != nil {
			logger.Error("could not rebuild router (stale router will be used)", "err", err)
			return
		}
		logger.Debug("router rebuilt", "version", v)
	}
	stopWatch := watchRouter(h, rb)
	defer stopWatch()
	if _, err := rb.Rebuild(context.Background()); err != nil {
		return fail("could not build the router: " + oneLine(err.Error()))
	}
	// The plugin iterator (Kong's plugins_iterator), rebuilt on plugins
	// CRUD events and other nodes' writes like the router.
	rl := host.NewRunloop(h)
	rl.OnPhase = o.onPhase
	// Kong's worker_consistency = strict (database mode only): a request
	// rebuilds what a change made stale before its plugins run and before
	// it is routed, instead of waiting for the background rebuild
	strict := c.Get("database") != "off" && c.Get("worker_consistency") == "strict"
	rl.Strict = strict
	rl.OnRebuild = func(v uint64, err error) {
		if err == nil {
			logger.Debug("plugins iterator rebuilt", "version", v)
		}
	}
	stopPlugins := rl.Watch()
	defer stopPlugins()
	if _, err := rl.Rebuild(context.Background()); err != nil {
		return fail("error building initial plugins iterator: " + oneLine(err.Error()))
	}
	// The ring-balancers of the upstreams (Kong's kong.runloop.balancer),
	// rebuilt on upstreams and targets CRUD events like the router.
	pc.DNS = dns
	bals := newBalancers(h, logger)
	bals.reg.DNS = dns
	stopBalancers := bals.Watch()
	defer stopBalancers()
	if err := bals.Rebuild(context.Background()); err != nil {
		logger.Error("failed loading list of upstreams", "err", err)
	}
	defer bals.reg.Close()
	pc.Balancer = bals.reg
	pc.ConsumerID = host.ConsumerID
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if strict {
		pc.UpdateRouter = func() {
			if err := rb.Fresh(ctx); err != nil {
				logger.Error("could not rebuild router via sync (stale router will be used)", "err", err)
			}
		}
	}
	go rb.Run(ctx)
	go rl.Run(ctx)
	go bals.Run(ctx)

	// the ssl listeners' certificates, by SNI from the snis entities,
	// reloaded on their CRUD events as the router is
	var certs *proxy.Certificates
	for _, l := range listeners {
		if l.SSL && certs == nil {
			def, err := defaultCertificate(c)
			if err != nil {
				return fail(err.Error())
			}
			certs = proxy.NewCertificates(def, loadSNICerts(h.Root.DB))
			certs.OnReload = func(n int, err error) {
				if err != nil {
					logger.Error("could not load SSL certificates", "err", err)
					return
				}
				logger.Debug("SSL certificates loaded", "snis", n)
			}
			stopCerts := watchCertificates(h, certs)
			defer stopCerts()
			if err := certs.Reload(context.Background()); err != nil {
				return fail("could not load SSL certificates: " + oneLine(err.Error()))
			}
			go certs.Run(ctx)
			pc.GetCertificate = certs.GetCertificate
			// the plugins' certificate phase, in each handshake
			pc.Certificate = rl.Certificate
		}
	}
	var ready atomic.Bool
	p := proxy.New(rt, pc)
	st, err := startStatus(c, h, p, rec, cfgHandler, &ready, stderr)
	if err != nil {
		return fail(oneLine(err.Error()))
	}
	defer st.Close()

	// the requests are counted for /metrics when status_listen serves
	// them, and written to proxy_access_log unless it is off
	var requests *metrics.Recorder
	if st != nil {
		requests = rec
		// every kong.cache get's hit level (a counter shared by all
		// workers: only when someone can read it)
		h.Root.SetCacheObserver(rec.CacheGet)
		defer h.Root.SetCacheObserver(nil)
	}
	p.Phases = withOps(rl, requests, logs.proxyAccess)
	srv, err := p.Listen(listeners)
	if err != nil {
		return fail("proxy_listen: " + oneLine(err.Error()))
	}
	var adm *admin.Server
	if len(adminListeners) > 0 {
		opts := admin.Options{Host: h, Logger: logger, Log: adminAccessLog(logs.adminAccess),
			ConnStats: p.ConnStats, Balancers: bals.reg, FreshBalancers: bals.Fresh, TLS: adminTLS}
		if h.Root.DB.Strategy() == "off" {
			opts.ConfigHash = cfgHandler.Hash
		}
		if adm, err = admin.New(opts); err != nil {
			srv.Shutdown(context.Background())
			return fail("admin API: " + oneLine(err.Error()))
		}
		// Kong DB-less's /config (the Admin API's helper mounts it): GET
		// exports, POST replaces the embedded store's configuration
		mountConfig(adm, cfgHandler, h.FuncRunner())
		if err := adm.Listen(adminListeners); err != nil {
			srv.Shutdown(context.Background())
			return fail("admin_listen: " + oneLine(err.Error()))
		}
	}
	for i, a := range srv.Addrs {
		fmt.Fprintf(stderr, "luahost: proxy listening on %s%s\n", a, listenNote(listeners[i]))
	}
	if len(srv.Addrs) == 0 {
		if adm != nil {
			adm.Shutdown(context.Background())
		}
		return fail("proxy_listen: nothing to listen on (off)")
	}
	if adm != nil {
		for i, a := range adm.Addrs {
			fmt.Fprintf(stderr, "luahost: admin API listening on %s%s\n", a, listenNote(adm.Listeners[i]))
		}
	}

	sigs := o.signals
	if sigs == nil {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		defer signal.Stop(ch)
		sigs = ch
	}
	exit := o.exit
	if exit == nil {
		exit = os.Exit
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	ready.Store(true)
	adminServed := make(chan error, 1)
	if adm != nil {
		go func() { adminServed <- adm.Serve() }()
	}
	n := &node{Host: h, Runloop: rl, Proxy: p, Server: srv, Router: rt, Admin: adm, Rebuilder: rb, Certificates: certs, Balancers: bals, Config: cfgHandler, Metrics: rec,
		AccessLog: logs.proxyAccess, AdminAccessLog: logs.adminAccess}
	if st != nil {
		n.StatusAddrs = st.Addrs
	}
	if o.ready != nil {
		o.ready(n)
	}

	select {
	case err := <-served:
		if adm != nil {
			adm.Shutdown(context.Background())
		}
		if err != nil {
			return fail("proxy: " + oneLine(err.Error()))
		}
		return 0
	case err := <-adminServed:
		srv.Shutdown(context.Background())
		<-served
		if err != nil {
			return fail("admin API: " + oneLine(err.Error()))
		}
		return 0
	case s := <-sigs:
		fmt.Fprintf(stderr, "luahost: %v received, stopping (in-flight requests may finish; send it again to exit now)\n", s)
	}
	timeout := DefaultShutdownTimeout
	if n := c.Int("luahost_shutdown_timeout", 0); n > 0 {
		timeout = time.Duration(n) * time.Second
	}
	sctx, scancel := context.WithTimeout(context.Background(), timeout)
	defer scancel()
	done := make(chan error, 1)
	go func() {
		var aerr error
		if adm != nil {
			aerr = adm.Shutdown(sctx)
		}
		err := srv.Shutdown(sctx)
		if err == nil {
			err = aerr
		}
		done <- err
	}()
	select {
	case err := <-done:
		<-served
		if adm != nil {
			<-adminServed
		}
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "luahost: stopped with requests still running after %v\n", timeout)
			return 1
		}
		fmt.Fprintln(stderr, "luahost: stopped")
		return 0
	case s := <-sigs:
		fmt.Fprintf(stderr, "luahost: %v received again, exiting now\n", s)
		exit(1)
		return 1
	}
}
