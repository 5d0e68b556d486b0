package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/proxy"
)

// DefaultMaxBodySize is the largest request body the Admin API reads
// (Kong's admin server: client_max_body_size 10m).
const DefaultMaxBodySize = 10 << 20

// Options configure a Server.
type Options struct {
	// Host gives the DB (Host.Root.DB), the caches and the plugins; its
	// pool runs the plugins' api.lua.
	Host *host.Host
	// Logger receives unexpected errors (500s); nil: the host's.
	Logger *slog.Logger
	// MaxBodySize bounds request bodies (0: DefaultMaxBodySize).
	MaxBodySize int
	// NoLua leaves the plugins' api.lua out (Go endpoints only).
	NoLua bool
	// Log, when set, is called once per request with its response made,
	// including the requests fasthttp could not read (the node writes
	// admin_access_log from it). It must not keep ctx.
	Log func(ctx *fasthttp.RequestCtx)
	// ConnStats, when set, gives /status its server block (the node's
	// proxy.Proxy.ConnStats); nil reports the Admin API's own requests.
	ConnStats func() proxy.ConnStats
	// ConfigHash is the hash of the declarative configuration loaded (a
	// DB-less node's): /status answers it as configuration_hash, without
	// the database entry, as Kong does with database = off. nil: a node
	// with a database.
	ConfigHash func() string
	// FreshBalancers, when set, brings Balancers up to date with the
	// upstreams and targets written so far (the health endpoints call it
	// before they read a balancer).
	FreshBalancers func(ctx context.Context) error
	// Balancers, when set, answers the health endpoints
	// (/upstreams/:upstreams/health, .../targets/:targets/healthy); nil:
	// no balancer, as a Kong node without one.
	Balancers *balancer.Registry
	// TLS serves the ssl entries of admin_listen (proxy.ServerTLSConfig
	// with admin_ssl_cert's certificates); required when there is one.
	TLS *tls.Config
}

// HandlerFunc serves one Admin API request.
type HandlerFunc func(r *Request)

// Server is the Admin API: a router of Kong's endpoints over the host's
// DB, served by fasthttp on the admin_listen entries.
type Server struct {
	h      *host.Host
	db     *kongdb.DB
	logger *slog.Logger
	opts   Options
	rt     *router
	lua    *luaAPI
	// certs is certificates' snis attribute (certificateRoutes), nil
	// without the snis entity
	certs *certSNIs

	serverHeader string
	// hdrServer, hdrLatency: `headers` enables Server, X-Kong-Admin-Latency
	hdrServer, hdrLatency bool
	// guiOrigins is Kong's admin_gui_origin: the origins of admin_gui_url
	// (cors_filter's allowed origins)
	guiOrigins []string

	srv     *fasthttp.Server
	lns     []net.Listener
	serving atomic.Bool
	// accepted is closed when the accept loops Serve started have returned
	accepted chan struct{}
	// h2 serves the HTTP/2 connections of the http2 entries, h2lns are
	// those entries' HTTP/2 side (proxy.H2Split).
	h2    *http.Server
	h2lns []net.Listener
	// Addrs are the addresses listened on, in admin_listen order, and
	// Listeners their entries.
	Addrs     []net.Addr
	Listeners []proxy.Listener

	stats struct {
		accepted, handled atomic.Int64
	}
	mu sync.Mutex // Listen
}

// New builds the Admin API of h: Kong's own routes, the endpoints
// generated for every entity with generate_admin_api unset, and the
// routes of every enabled plugin's api.lua (which win over generated
// ones, as in Kong).
func New(opts Options) (*Server, error) {
	if opts.Host == nil || opts.Host.Root == nil || opts.Host.Root.DB == nil {
		return nil, errors.New("admin: a host with a database is needed")
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = DefaultMaxBodySize
	}
	s := &Server{h: opts.Host, db: opts.Host.Root.DB, opts: opts, logger: opts.Logger, rt: newRouter(), accepted: make(chan struct{}),
		serverHeader: "kong/" + opts.Host.Root.VersionString()}
	var headers []string // Kong's default
	if c := opts.Host.Root.Conf; c != nil && c.Has("headers") {
		if headers = c.List("headers"); headers == nil {
			headers = []string{}
		}
	}
	s.hdrServer, s.hdrLatency = proxy.AdminHeaders(headers)
	if s.logger == nil {
		s.logger = opts.Host.Logger
	}
	if c := opts.Host.Conf; c != nil {
		s.guiOrigins = guiOrigins(c.List("admin_gui_url"))
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.kongRoutes()
	for _, name := range s.db.Names() {
		d := s.db.DAO(name)
		if d.Schema.GenerateAdminAPI {
			s.generate(d)
		}
	}
	s.customRoutes()
	s.targetRoutes()
	s.certificateRoutes()
	if !opts.NoLua {
		if err := s.loadLua(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Handle adds (or replaces) the handler of method on path, a pattern in
// Kong's form ("/config", "/things/:things"). Call it before Serve.
// Bodies of such routes may also be YAML (application/yaml, text/yaml),
// as Kong accepts for /config.
func (s *Server) Handle(method, path string, h HandlerFunc) {
	if s.serving.Load() {
		panic("admin: Handle called after Serve")
	}
	r := s.rt.add(path)
	r.methods[method] = h
	r.acceptYAML = true
	r.lua = false
}

// Endpoints lists the served paths as Kong's /endpoints does.
func (s *Server) Endpoints() []string { return s.rt.patterns() }

// Handler is the fasthttp handler of the Admin API (tests and
// benchmarks serve it in memory).
func (s *Server) Handler() fasthttp.RequestHandler { return s.serve }

func (s *Server) newServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               s.serve,
		ErrorHandler:          s.errorHandler,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		MaxRequestBodySize:    s.opts.MaxBodySize,
		ReadBufferSize:        32 << 10, // nginx: large_client_header_buffers 4 8k
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           60 * time.Second,
		CloseOnShutdown:       true,
		Logger:                quietLogger{},
		ConnState: func(_ net.Conn, st fasthttp.ConnState) {
			if st == fasthttp.StateNew {
				s.stats.accepted.Add(1)
			}
		},
	}
}

// Listen binds every entry of ls (proxy.Bind): an ssl entry serves TLS
// with Options.TLS, an http2 entry HTTP/2 beside HTTP/1.x (ALPN h2 over
// TLS, prior knowledge in cleartext), as the proxy's entries.
func (s *Server) Listen(ls []proxy.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range ls {
		ln, err := proxy.Bind(l, s.opts.TLS)
		if err != nil {
			for _, o := range s.lns {
				o.Close()
			}
			s.lns, s.h2lns, s.Addrs, s.Listeners = nil, nil, nil, nil
			return err
		}
		s.Addrs = append(s.Addrs, ln.Addr())
		s.Listeners = append(s.Listeners, l)
		if l.HTTP2 {
			var h2 net.Listener
			ln, h2 = proxy.H2Split(ln)
			s.h2lns = append(s.h2lns, h2)
		}
		s.lns = append(s.lns, proxy.CloseOnce(ln))
	}
	return nil
}

// Serve serves the listeners until Shutdown.
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.srv == nil {
		s.srv = s.newServer()
	}
	if s.h2 == nil && len(s.h2lns) > 0 {
		s.h2 = proxy.H2Server(proxy.H2Handler(s.serveH2), 60*time.Second)
		s.h2.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.stats.accepted.Add(1)
			}
		}
	}
	srv, lns, h2, h2lns := s.srv, s.lns, s.h2, s.h2lns
	s.mu.Unlock()
	s.serving.Store(true)
	errc := make(chan error, len(lns)+len(h2lns))
	var wg, h1 sync.WaitGroup
	for _, ln := range lns {
		wg.Add(1)
		h1.Add(1)
		go func(ln net.Listener) {
			defer wg.Done()
			defer h1.Done()
			errc <- srv.Serve(ln)
		}(ln)
	}
	go func() {
		h1.Wait()
		close(s.accepted)
	}()
	for _, ln := range h2lns {
		wg.Add(1)
		go func(ln net.Listener) {
			defer wg.Done()
			if err := h2.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(ln)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

// serveH2 serves an HTTP/2 stream: its body read whole first, bounded as
// fasthttp bounds an HTTP/1.x one (413 beyond MaxBodySize).
func (s *Server) serveH2(ctx *fasthttp.RequestCtx) {
	req := &ctx.Request
	if req.IsBodyStream() {
		max := s.opts.MaxBodySize
		if req.Header.ContentLength() > max {
			s.errorHandler(ctx, fasthttp.ErrBodyTooLarge)
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(max)+1))
		switch {
		case err != nil:
			s.errorHandler(ctx, err)
			return
		case len(body) > max:
			s.errorHandler(ctx, fasthttp.ErrBodyTooLarge)
			return
		}
		req.SetBody(body)
	}
	s.serve(ctx)
}

// Shutdown stops accepting and lets in-flight requests finish until ctx is
// done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, h2 := s.srv, s.h2
	if srv == nil {
		for _, ln := range s.lns {
			ln.Close() // an http2 entry's HTTP/2 side with it
		}
	}
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	var accepted <-chan struct{}
	if s.serving.Load() {
		accepted = s.accepted
	}
	return proxy.ShutdownServers(ctx, srv, h2, s.lns, accepted)
}

func (s *Server) errorHandler(ctx *fasthttp.RequestCtx, err error) {
	if s.opts.Log != nil {
		defer s.opts.Log(ctx)
	}
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeJSON(ctx, 413, map[string]any{"message": "Request Entity Too Large"})
		return
	}
	writeJSON(ctx, 400, map[string]any{"message": "Bad request"})
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// serve is the request pipeline: Kong's cors_filter and before_filter, the
// route match (404/405/OPTIONS), argument parsing, then the handler.
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	s.stats.handled.Add(1)
	if s.opts.Log != nil {
		// deferred first: runs last, with the headers below and a
		// recovered panic's 500 in the response
		defer s.opts.Log(ctx)
	}
	start := time.Now()
	defer func() {
		// Kong's admin_header_filter: latency in ms, Server:
		// kong/<version>, as `headers` enables them
		if s.hdrLatency {
			ctx.Response.Header.Set("X-Kong-Admin-Latency", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
		}
		if s.hdrServer {
			ctx.Response.Header.Set("Server", s.serverHeader)
		} else {
			ctx.Response.Header.Del("Server")
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("admin API handler panicked", "path", string(ctx.Path()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			ctx.Response.Reset()
			writeJSON(ctx, 500, map[string]any{"message": "An unexpected error occurred"})
		}
	}()
	method := string(ctx.Method())
	ctx.Response.Header.Set("Access-Control-Allow-Origin", s.allowOrigin(string(ctx.Request.Header.Peek("Origin"))))
	ctx.Response.Header.Set("Access-Control-Allow-Credentials", "true")

	rawPath := string(ctx.URI().PathOriginal())
	if i := indexByte(rawPath, '?'); i >= 0 {
		rawPath = rawPath[:i]
	}
	rt, params := s.rt.match(rawPath)
	if rt == nil {
		writeJSON(ctx, 404, map[string]any{"message": "Not found"})
		return
	}
	if method == "OPTIONS" {
		allow := rt.allowed()
		ctx.Response.Header.Set("Allow", allow)
		ctx.Response.Header.Set("Access-Control-Allow-Methods", allow)
		if h := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(h) > 0 {
			ctx.Response.Header.SetBytesV("Access-Control-Allow-Headers", h)
		} else {
			ctx.Response.Header.Set("Access-Control-Allow-Headers", "Content-Type")
		}
		ctx.SetStatusCode(204)
		return
	}
	r := &Request{Ctx: ctx, Method: method, Path: rawPath, Params: params, route: rt, s: s}
	if !r.parse() {
		return
	}
	if rt.lua && s.lua != nil {
		s.lua.serve(r)
		return
	}
	lookup := method
	if lookup == "HEAD" {
		lookup = "GET"
	}
	h, ok := rt.methods[lookup]
	if !ok {
		r.Exit(405, nil)
		return
	}
	h(r)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// allowOrigin is Kong's cors_filter's Access-Control-Allow-Origin: with
// admin_gui_url set, the request's origin when it is one of its origins,
// else the first of them; without, the request's origin, else "*".
func (s *Server) allowOrigin(origin string) string {
	if len(s.guiOrigins) > 0 {
		for _, o := range s.guiOrigins {
			if o == origin {
				return origin
			}
		}
		return s.guiOrigins[0]
	}
	if origin == "" {
		return "*"
	}
	return origin
}

// guiOrigins is Kong's admin_gui_origin: each admin_gui_url's scheme and
// authority, as LuaSocket's url.parse splits them (the fragment off, the
// scheme up to the first ':', the authority after "//" up to the next
// '/').
func guiOrigins(urls []string) []string {
	var out []string
	for _, u := range urls {
		if i := strings.IndexByte(u, '#'); i >= 0 {
			u = u[:i]
		}
		scheme := ""
		if i := strings.IndexByte(u, ':'); i > 0 && isSchemeName(u[:i]) {
			scheme, u = u[:i], u[i+1:]
		}
		authority := ""
		if strings.HasPrefix(u, "//") {
			authority = u[2:]
			if i := strings.IndexByte(authority, '/'); i >= 0 {
				authority = authority[:i]
			}
		}
		out = append(out, scheme+"://"+authority)
	}
	return out
}

// isSchemeName: LuaSocket's scheme pattern, [%w][%w%+%-%.]*.
func isSchemeName(s string) bool {
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '+' && c != '-' && c != '.')) {
			return false
		}
	}
	return s != ""
}
