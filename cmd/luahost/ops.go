package main

// Operations: the status_listen server (/status, /status/ready, /metrics)
// and the metrics luahost can feed from here (worker pool, caches,
// database reachability).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/luahost/luahost/admin"
	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/logging"
	"github.com/luahost/luahost/metrics"
	"github.com/luahost/luahost/proxy"
	"github.com/luahost/luahost/status"
)

// watchHost feeds rec from the host: the worker pool and both caches'
// L2 state, read at each scrape.
func watchHost(rec *metrics.Recorder, h *host.Host) {
	if h.Pool != nil {
		rec.WatchPool(func() metrics.PoolStat {
			s := h.Pool.Stat()
			return metrics.PoolStat{Total: s.Total, Idle: s.Idle, Min: s.Min, Max: s.Max,
				Acquired: s.Acquired, Created: s.Created, Discarded: s.Discarded, Waiting: s.Waiting}
		})
	}
	watch := func(name string, c *cache.Cache) {
		if c == nil {
			return
		}
		rec.WatchCache(name, func() metrics.CacheStats {
			s := c.Stats()
			return metrics.CacheStats{Entries: s.Entries, MissEntries: s.MissEntries, Evacuated: s.Evacuated,
				Loads: s.Loads, HitRate: s.HitRate}
		})
	}
	watch("kong.cache", h.Root.Cache)
	watch("kong.core_cache", h.Root.CoreCache)
}

// statusServer serves status_listen; nil when it is off.
type statusServer struct {
	srvs  []*http.Server
	Addrs []net.Addr
	done  chan struct{}
}

func startStatus(c *conf.Config, h *host.Host, p *proxy.Proxy, rec *metrics.Recorder, cfg *declarative.Handler, ready *atomic.Bool, stderr io.Writer) (*statusServer, error) {
	v := strings.TrimSpace(c.Get("status_listen"))
	if v == "" || v == "off" {
		return nil, nil
	}
	ls, err := proxy.ParseListen("status_listen", v)
	if err != nil {
		return nil, err
	}
	tlsConf, err := listenTLS(c, "status_", ls)
	if err != nil {
		return nil, err
	}
	sh := &status.Handler{Metrics: rec, Ready: ready.Load, Server: func() status.ServerStats {
		s := p.ConnStats()
		return status.ServerStats{Accepted: s.Accepted, Handled: s.Handled, Active: s.Active, Reading: s.Reading,
			Writing: s.Writing, Waiting: s.Waiting, Requests: s.Requests}
	}}
	rec.WatchConnections(h.Root.NodeIDValue(), func() metrics.ConnStats {
		s := p.ConnStats()
		return metrics.ConnStats{Accepted: s.Accepted, Handled: s.Handled, Active: s.Active, Reading: s.Reading,
			Writing: s.Writing, Waiting: s.Waiting, Requests: s.Requests}
	})
	if pg, ok := h.Root.DB.Connector().(*postgres.Connector); ok {
		sh.Reachable = func(ctx context.Context) error { return pg.Pool().Ping(ctx) }
	}
	if h.Root.DB.Strategy() == "off" {
		sh.ConfigHash = cfg.Hash
	}
	// net/http serves HTTP/2 itself: the http2 entries' server also speaks
	// it (ALPN h2 over TLS, prior knowledge in cleartext), the others'
	// HTTP/1.x only
	h1 := &http.Server{Handler: sh, ReadHeaderTimeout: 10 * time.Second}
	var h2 *http.Server
	s := &statusServer{srvs: []*http.Server{h1}, done: make(chan struct{})}
	type bound struct {
		ln  net.Listener
		srv *http.Server
	}
	var lns []bound
	for _, l := range ls {
		ln, err := proxy.Bind(l, tlsConf)
		if err != nil {
			for _, o := range lns {
				o.ln.Close()
			}
			return nil, fmt.Errorf("status_listen: %w", err)
		}
		srv := h1
		if l.HTTP2 {
			if h2 == nil {
				h2 = &http.Server{Handler: sh, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}
				h2.Protocols.SetHTTP1(true)
				h2.Protocols.SetHTTP2(true)
				h2.Protocols.SetUnencryptedHTTP2(true)
				s.srvs = append(s.srvs, h2)
			}
			srv = h2
		}
		lns = append(lns, bound{ln, srv})
		s.Addrs = append(s.Addrs, ln.Addr())
		fmt.Fprintf(stderr, "luahost: status listening on %s%s\n", ln.Addr(), listenNote(l))
	}
	remaining := atomic.Int32{}
	remaining.Store(int32(len(lns)))
	for _, b := range lns {
		go func(b bound) {
			if err := b.srv.Serve(b.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintf(stderr, "luahost: status_listen %s: %v\n", b.ln.Addr(), err)
			}
			if remaining.Add(-1) == 0 {
				close(s.done)
			}
		}(b)
	}
	if len(lns) == 0 {
		close(s.done)
	}
	return s, nil
}

// Close stops the status server.
func (s *statusServer) Close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.srvs {
		_ = srv.Shutdown(ctx)
	}
	<-s.done
}

// nodeLogs are the log destinations of kong.conf: proxy_error_log (the
// slog output), proxy_access_log and admin_access_log.
type nodeLogs struct {
	errorLog                 io.Writer
	proxyAccess, adminAccess *logging.AccessLog
	closers                  []io.Closer
}

func openLogs(c *conf.Config, stdout, stderr io.Writer) (*nodeLogs, error) {
	l := &nodeLogs{}
	prefix := c.Get("prefix")
	open := func(key string, std io.Writer) (io.Writer, error) {
		w, cl, err := logging.Open(c.Get(key), prefix, std)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if cl != nil {
			l.closers = append(l.closers, cl)
		}
		return w, nil
	}
	var err error
	if l.errorLog, err = open("proxy_error_log", stderr); err != nil {
		return nil, err
	}
	if l.errorLog == nil {
		l.errorLog = io.Discard
	}
	w, err := open("proxy_access_log", stdout)
	if err != nil {
		return nil, err
	}
	l.proxyAccess = logging.NewAccessLog(w, logging.FormatKong)
	if w, err = open("admin_access_log", stdout); err != nil {
		return nil, err
	}
	l.adminAccess = logging.NewAccessLog(w, logging.FormatCombined)
	return l, nil
}

func (l *nodeLogs) Close() {
	for _, c := range l.closers {
		c.Close()
	}
	l.closers = nil
}

// mountConfig serves the declarative /config handler (net/http) on the
// Admin API (fasthttp); the configuration posted is validated with
// runner running plugin schemas' Lua functions (custom validators), as
// Kong's /config validates it in the worker.
func mountConfig(adm *admin.Server, cfg *declarative.Handler, runner schema.FuncRunner) {
	h := fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg.ServeHTTP(w, r.WithContext(schema.WithFuncRunner(r.Context(), runner)))
	}))
	for _, m := range []string{"GET", "POST"} {
		adm.Handle(m, "/config", func(r *admin.Request) { h(r.Ctx) })
	}
}
