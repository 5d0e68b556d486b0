package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Server serves a Proxy on the entries of proxy_listen.
type Server struct {
	srv     *fasthttp.Server
	lns     []net.Listener
	tunnels *tunnelSet // the WebSocket tunnels of its connections
	// Addrs are the addresses listened on, in proxy_listen order, and
	// Listeners the entries they serve.
	Addrs     []net.Addr
	Listeners []Listener
	// h2 serves the HTTP/2 connections of the http2 entries (h2.go), h2lns
	// are those entries' HTTP/2 side.
	h2     *http.Server
	h2lns  []net.Listener
	h2logs sync.WaitGroup
	// serving is set once Serve has started fasthttp's accept loops;
	// accepted is closed when they have all returned
	serving  atomic.Bool
	accepted chan struct{}
}

// Listen binds every entry of ls; an ssl entry serves TLS with
// Config.GetCertificate (required then). A bind failure closes what was
// bound and is returned.
func (p *Proxy) Listen(ls []Listener) (*Server, error) {
	s := &Server{srv: p.newServer(), tunnels: &tunnelSet{}, accepted: make(chan struct{})}
	var tlsConf *tls.Config
	for _, l := range ls {
		if l.SSL && p.cfg.GetCertificate == nil {
			return nil, errors.New(l.Addr + " ssl: no certificates configured")
		}
	}
	var tlsConfH2 *tls.Config
	if p.cfg.GetCertificate != nil {
		tlsConf = ServerTLSConfig(p.cfg.GetCertificate)
		tlsConfH2 = H2TLSConfig(tlsConf)
		if p.cfg.Certificate != nil {
			tlsConf.GetConfigForClient = p.configForClient(tlsConf)
			tlsConfH2.GetConfigForClient = p.configForClient(tlsConfH2)
		}
	}
	for _, l := range ls {
		ln, err := listenTCP(l)
		if err != nil {
			for _, o := range s.lns {
				o.Close()
			}
			return nil, err
		}
		s.Addrs = append(s.Addrs, ln.Addr())
		s.Listeners = append(s.Listeners, l)
		if l.SSL {
			if l.HTTP2 {
				ln = tlsListener{ln, tlsConfH2}
			} else {
				ln = tlsListener{ln, tlsConf}
			}
		}
		if l.HTTP2 {
			split := newH2Split(ln)
			if s.h2 == nil {
				s.h2 = p.newH2Server(&s.h2logs)
			}
			s.h2lns = append(s.h2lns, h2Listener{split})
			ln = split
		}
		s.lns = append(s.lns, &logListener{Listener: CloseOnce(ln), tunnels: s.tunnels})
	}
	return s, nil
}

func (p *Proxy) newServer() *fasthttp.Server {
	idle := p.cfg.ClientIdleTimeout
	if idle <= 0 {
		idle = 60 * time.Second
	}
	hdr := p.cfg.ClientHeaderBufferSize
	if hdr <= 0 {
		hdr = 32 << 10 // nginx: large_client_header_buffers 4 8k
	}
	return &fasthttp.Server{
		Handler:                       p.ServeHTTP,
		ErrorHandler:                  p.ErrorHandler,
		Name:                          "",
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: true,
		ReadBufferSize:                hdr,
		MaxRequestBodySize:            p.cfg.maxBody(),
		// The body is streamed to the upstream (body.go); a multipart
		// body is passed on as it came.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		// Log runs once a kept-alive connection reports its response
		// flushed (logconn.go).
		ConnState:   p.connState,
		IdleTimeout: idle,
		// nginx's client_header_timeout / client_body_timeout and
		// send_timeout (60 s each).
		ReadTimeout:     60 * time.Second,
		WriteTimeout:    60 * time.Second,
		CloseOnShutdown: true,
		Concurrency:     1 << 20,
		Logger:          quietLogger{},
	}
}

// Serve serves every listener until Shutdown; it returns the first
// listener's error other than a shutdown.
func (s *Server) Serve() error {
	errc := make(chan error, len(s.lns)+len(s.h2lns))
	var wg, h1 sync.WaitGroup
	s.serving.Store(true)
	stop := make(chan struct{})
	defer close(stop)
	go watchProcs(stop)
	for _, ln := range s.lns {
		wg.Add(1)
		h1.Add(1)
		go func(ln net.Listener) {
			defer wg.Done()
			defer h1.Done()
			errc <- s.srv.Serve(ln)
		}(ln)
	}
	go func() {
		h1.Wait()
		close(s.accepted)
	}()
	for _, ln := range s.h2lns {
		wg.Add(1)
		go func(ln net.Listener) {
			defer wg.Done()
			if err := s.h2.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
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

// Shutdown stops accepting, lets in-flight requests finish until ctx is
// done, then closes the remaining connections. WebSocket tunnels are
// closed once the requests have finished (or ctx is done): a tunnel lasts
// until a side closes it, which may be never (nginx keeps upgraded
// connections through a graceful quit, until kong quit's timeout stops
// it); Shutdown then waits for their Log, until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	var accepted <-chan struct{}
	if s.serving.Load() {
		accepted = s.accepted
	}
	err := ShutdownServers(ctx, s.srv, s.h2, s.lns, accepted)
	s.h2logs.Wait() // Logs of the HTTP/2 streams that ended
	s.tunnels.closeAll(ctx)
	return err
}

// ShutdownServers is the graceful stop of a fasthttp server srv serving
// lns and of h2 (nil: none), serving their http2 entries' HTTP/2 side:
// the listeners are closed and their accept loops gone first (accepted
// closed once they returned; nil when they were never started), since
// fasthttp counts each loop as an open connection and its shutdown,
// finding one, waits for its next 100 ms poll; then both servers' own
// shutdowns run, until ctx is done (HTTP/2 connections get a GOAWAY, and
// are closed once their streams end). The listeners are closed once more
// at the end: fasthttp closes only those its Serve registered.
func ShutdownServers(ctx context.Context, srv *fasthttp.Server, h2 *http.Server, lns []net.Listener, accepted <-chan struct{}) error {
	h2done := make(chan error, 1)
	if h2 != nil {
		go func() {
			err := h2.Shutdown(ctx)
			if err != nil {
				h2.Close()
			}
			h2done <- err
		}()
	} else {
		h2done <- nil
	}
	for _, ln := range lns {
		ln.Close()
	}
	if accepted != nil {
		select {
		case <-accepted:
		case <-ctx.Done():
		}
	}
	err := srv.ShutdownWithContext(ctx)
	if h2err := <-h2done; err == nil {
		err = h2err
	}
	for _, ln := range lns {
		ln.Close()
	}
	return err
}

// quietLogger drops fasthttp's connection-level messages: malformed
// requests are answered (ErrorHandler), not logged, as nginx logs them at
// info level only.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
