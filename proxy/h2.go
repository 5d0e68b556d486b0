package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// HTTP/2 on the proxy_listen entries flagged http2, as nginx serves them:
// over TLS, the clients that offer h2 in ALPN speak HTTP/2 and the others
// HTTP/1.1 (Kong's default 8443 entry is "http2 ssl"); in cleartext, a
// connection that opens with HTTP/2's preface (prior knowledge) speaks
// HTTP/2 and any other HTTP/1.x. fasthttp has no HTTP/2 server, so the
// standard library's serves those connections, and each stream becomes a
// fasthttp request handed to the same handler as an HTTP/1.x one
// (Proxy.ServeHTTP): routed, run through the plugins' phases and sent to
// the upstream over HTTP/1.1, as nginx's proxy_pass does. What a plugin
// sees differs where nginx's does: ngx.req.http_version() 2,
// $server_protocol "HTTP/2.0", $http2 "h2" or "h2c", header names in lower
// case (HTTP/2 sends them so), Via "2 kong/<version>" upstream.
//
// The response of an HTTP/2 stream is streamed as an HTTP/1.x one is
// (through BodyFilter when plugins run, each chunk flushed), and Log runs
// once the stream has ended (its handler returned), on a goroutine of its
// own that Shutdown waits for.

// h2Preface opens every HTTP/2 connection (RFC 9113 §3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// h2SniffTimeout bounds the wait for a connection's first bytes or TLS
// handshake before it is classified (nginx's client_header_timeout).
const h2SniffTimeout = 60 * time.Second

// h2Split is the listener of an http2 entry: it classifies each accepted
// connection and hands HTTP/2 ones to the HTTP/2 server (through h2),
// HTTP/1.x ones to fasthttp (through Accept).
type h2Split struct {
	net.Listener
	h1, h2 chan net.Conn
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	err    error // the inner Accept's error, once it failed
}

func newH2Split(inner net.Listener) *h2Split {
	s := &h2Split{Listener: inner, h1: make(chan net.Conn), h2: make(chan net.Conn), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *h2Split) run() {
	var backoff time.Duration
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if !errors.Is(err, net.ErrClosed) {
				// out of descriptors or the like: wait and accept again, as
				// fasthttp's and net/http's servers do
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			s.Close()
			return
		}
		backoff = 0
		go s.classify(c)
	}
}

// classify sends c to the HTTP/2 server or to fasthttp.
func (s *h2Split) classify(c net.Conn) {
	c.SetDeadline(time.Now().Add(h2SniffTimeout))
	isH2 := false
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			c.Close()
			return
		}
		isH2 = tc.ConnectionState().NegotiatedProtocol == "h2"
	} else {
		var first []byte
		first, isH2 = sniffPreface(c)
		c = &replayConn{Conn: c, first: first}
	}
	c.SetDeadline(time.Time{})
	to := s.h1
	if isH2 {
		to = s.h2
	}
	select {
	case to <- c:
	case <-s.done:
		c.Close()
	}
}

// sniffPreface reads c's first bytes until they are HTTP/2's preface or
// cannot be (or the read fails): what it read, and whether it was the
// preface.
func sniffPreface(c net.Conn) ([]byte, bool) {
	buf := make([]byte, len(h2Preface))
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if !strings.HasPrefix(h2Preface, string(buf[:n])) || err != nil {
			return buf[:n], false
		}
	}
	return buf, true
}

// Accept is fasthttp's: the HTTP/1.x connections.
func (s *h2Split) Accept() (net.Conn, error) {
	select {
	case c := <-s.h1:
		return c, nil
	case <-s.done:
		return nil, s.closedErr()
	}
}

func (s *h2Split) closedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return net.ErrClosed
}

func (s *h2Split) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.Listener.Close()
	})
	return err
}

// h2Listener is the HTTP/2 server's view of an h2Split.
type h2Listener struct{ s *h2Split }

func (l h2Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.s.h2:
		return c, nil
	case <-l.s.done:
		return nil, l.s.closedErr()
	}
}

func (l h2Listener) Close() error   { return l.s.Close() }
func (l h2Listener) Addr() net.Addr { return l.s.Addr() }

// replayConn gives back the bytes read to classify it before the rest.
type replayConn struct {
	net.Conn
	first []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(p, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// h2Conn is the connection of an HTTP/2 stream as the proxy's handler
// sees it (RequestCtx.Conn): its addresses, and for TLS the methods
// fasthttp's RequestCtx.IsTLS looks for (h2TLSConn). It carries the
// stream's Context to Log once the response is written.
type h2Conn struct {
	net.Conn // the connection (never read or written through here)
	pending  *Context
	trailer  *http.Header // a gRPC upstream's trailers, once its body ended
}

type h2TLSConn struct {
	h2Conn
	tl *tlsLogConn // the connection's TLS side, as an HTTP/1.x request's (Context.tc)
}

func (c *h2TLSConn) Handshake() error                     { return nil }
func (c *h2TLSConn) ConnectionState() tls.ConnectionState { return c.tl.tc.ConnectionState() }

// fromH2 sets the Context of a request read from an HTTP/2 stream (conn
// is an h2Conn or h2TLSConn; any other leaves it as it is).
func (c *Context) fromH2(conn net.Conn) {
	switch h := conn.(type) {
	case *h2Conn:
		c.h2 = h
	case *h2TLSConn:
		c.h2, c.tc = &h.h2Conn, h.tl
	}
}

// HTTP2 is nginx's $http2 for the request: "h2" (over TLS), "h2c"
// (cleartext), "" for HTTP/1.x.
func (c *Context) HTTP2() string {
	switch {
	case c.h2 == nil:
		return ""
	case c.tc != nil:
		return "h2"
	}
	return "h2c"
}

type connKey struct{}

// newH2Server is the HTTP/2 server of the proxy's http2 entries.
// Its streams' Logs are counted in logs, which Shutdown waits for.
func (p *Proxy) newH2Server(logs *sync.WaitGroup) *http.Server {
	return H2Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serveH2(w, r, logs)
	}), p.cfg.ClientIdleTimeout)
}

// hopByHop are the response headers HTTP/2 forbids (RFC 9113 §8.2.2).
var hopByHop = [...]string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}

// serveH2 serves one HTTP/2 stream through the proxy's handler.
func (p *Proxy) serveH2(w http.ResponseWriter, r *http.Request, logs *sync.WaitGroup) {
	nc, _ := r.Context().Value(connKey{}).(net.Conn)
	var conn net.Conn
	var hc *h2Conn
	if tc, ok := nc.(*tls.Conn); ok {
		hs, _ := tc.NetConn().(*hsConn)
		t := &h2TLSConn{h2Conn: h2Conn{Conn: nc}, tl: &tlsLogConn{logConn: &logConn{Conn: nc}, tc: tc, hs: hs}}
		conn, hc = t, &t.h2Conn
	} else {
		hc = &h2Conn{Conn: nc}
		conn = hc
	}
	rc := h2RequestCtx(r, conn)
	// as the HTTP/1.x server's NoDefaultContentType: no Content-Type of
	// fasthttp's own on a response without one
	rc.Response.Header.SetNoDefaultContentType(true)
	p.ServeHTTP(rc)
	upstreamFailed := writeH2Response(w, rc, hc.trailer)
	if c := hc.pending; c != nil {
		// Log once the client has the whole response: the stream ends when
		// this handler returns
		hc.pending = nil
		logs.Add(1)
		go func() {
			defer logs.Done()
			p.log(c)
		}()
	}
	if upstreamFailed {
		// the upstream failed mid-body: the stream is reset (RST_STREAM),
		// not ended as if the body were whole, as nginx does
		panic(http.ErrAbortHandler)
	}
}

// flushWriter sends each write at once; err is the first write's error.
type flushWriter struct {
	w   io.Writer
	f   http.Flusher
	err error
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if err != nil && fw.err == nil {
		fw.err = err
	}
	fw.f.Flush()
	return n, err
}

// h2RequestCtx is the fasthttp request of HTTP/2 stream r, its connection
// conn (RequestCtx.Conn): header names in lower case as HTTP/2 sent them,
// the body a stream.
func h2RequestCtx(r *http.Request, conn net.Conn) *fasthttp.RequestCtx {
	rc := new(fasthttp.RequestCtx)
	rc.Init2(conn, nil, false)
	req := &rc.Request
	h := &req.Header
	h.DisableNormalizing()
	h.SetMethod(r.Method)
	h.SetRequestURI(r.RequestURI)
	h.SetHost(r.Host)
	for k, vs := range r.Header {
		name := strings.ToLower(k)
		for _, v := range vs {
			h.Add(name, v)
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		// not an io.Closer: the proxy re-wraps the stream (SetBodyStream
		// closes the one it replaces); net/http closes the body
		req.SetBodyStream(struct{ io.Reader }{r.Body}, int(r.ContentLength))
	}
	return rc
}

// writeH2Response writes rc's response to an HTTP/2 stream: its headers
// but those HTTP/2 forbids, its body whole or streamed chunk by chunk
// (each flushed), the trailers (a gRPC upstream's; nil none) once the
// body has ended, then closes the body's stream (bodyOut.CloseWithError
// for the proxy's, which schedules Log). It reports whether reading a
// streamed body failed (the upstream's fault, not the client's).
func writeH2Response(w http.ResponseWriter, rc *fasthttp.RequestCtx, trailer *http.Header) (bodyFailed bool) {
	resp := &rc.Response
	wh := w.Header()
	trailersOnly := false
	resp.Header.VisitAll(func(k, v []byte) {
		for _, n := range hopByHop {
			if strings.EqualFold(b2s(k), n) {
				return
			}
		}
		wh.Add(string(k), string(v))
		if strings.EqualFold(b2s(k), "grpc-status") {
			trailersOnly = true
		}
	})
	if _, ok := wh["Content-Type"]; !ok {
		wh["Content-Type"] = nil // none, as over HTTP/1.x: net/http would sniff one
	}
	head := rc.Request.Header.IsHead()
	switch {
	case head:
		if cl := resp.Header.ContentLength(); cl >= 0 {
			wh.Set("Content-Length", strconv.Itoa(cl))
		}
	case !resp.IsBodyStream():
		// known whole: Kong's own answers, a body read whole without
		// plugins (fasthttp sets the header's length only as it writes)
		wh.Set("Content-Length", strconv.Itoa(len(resp.Body())))
	}
	w.WriteHeader(resp.StatusCode())
	// a gRPC status in the headers (Kong's answer to a gRPC client, an
	// upstream's trailers-only response) ends the call: the headers wait
	// for the handler's end, so that one HEADERS frame ends the stream (a
	// gRPC client takes headers then an empty DATA frame for a call closed
	// without trailers)
	if resp.IsBodyStream() && !trailersOnly {
		// the headers as they come (nginx), before the body's first bytes
		w.(http.Flusher).Flush()
	}
	if !resp.IsBodyStream() {
		if !head {
			w.Write(resp.Body())
		}
	} else if !head {
		fw := &flushWriter{w: w, f: w.(http.Flusher)}
		_, err := io.Copy(fw, resp.BodyStream())
		bodyFailed = err != nil && fw.err == nil
	}
	if trailer != nil && !bodyFailed {
		for k, vs := range *trailer {
			for _, v := range vs {
				wh.Add(http.TrailerPrefix+k, v)
			}
		}
	}
	resp.CloseBodyStream()
	return bodyFailed
}

// H2Handler serves HTTP/2 streams with a fasthttp handler (the Admin API's,
// status_listen's): each stream a RequestCtx whose Conn has the
// connection's addresses (and TLS state, for RequestCtx.IsTLS).
func H2Handler(h fasthttp.RequestHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _ := r.Context().Value(connKey{}).(net.Conn)
		var conn net.Conn = &h2Conn{Conn: nc}
		if tc, ok := nc.(*tls.Conn); ok {
			conn = &h2TLSConn{h2Conn: h2Conn{Conn: nc}, tl: &tlsLogConn{logConn: &logConn{Conn: nc}, tc: tc}}
		}
		rc := h2RequestCtx(r, conn)
		h(rc)
		writeH2Response(w, rc, nil)
	})
}

// H2Server is an HTTP/2-only net/http server for H2Split's HTTP/2 side:
// handler (H2Handler) serves its streams; IdleTimeout as nginx's
// keepalive_timeout.
func H2Server(handler http.Handler, idle time.Duration) *http.Server {
	srv := &http.Server{
		Handler: handler,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		IdleTimeout:       idle,
		ReadHeaderTimeout: 60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	var ps http.Protocols
	ps.SetHTTP2(true)
	ps.SetUnencryptedHTTP2(true)
	srv.Protocols = &ps
	return srv
}

// H2Split splits listener ln (TCP, or TLS offering ALPN h2) into its
// HTTP/1.x connections (h1, for fasthttp) and its HTTP/2 ones (h2, for
// H2Server), as an http2 listen entry is served. Closing either closes
// ln.
func H2Split(ln net.Listener) (h1, h2 net.Listener) {
	s := newH2Split(ln)
	return s, h2Listener{s}
}

// H2TLSConfig is conf for an "http2 ssl" entry: ALPN h2 first.
func H2TLSConfig(conf *tls.Config) *tls.Config {
	c := conf.Clone()
	c.NextProtos = []string{"h2", "http/1.1"}
	return c
}
