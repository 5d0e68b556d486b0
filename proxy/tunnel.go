package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// WebSocket proxying, as Kong's nginx does it. Kong's runloop marks a
// request whose first Upgrade header is "websocket" (any case) in
// access.before (handler.lua: upstream_upgrade "websocket",
// upstream_connection "keep-alive, Upgrade", which the nginx template sends
// as Upgrade and Connection); Kong.access then turns response buffering
// off. nginx switches to an upgraded connection when the upstream answers
// 101 to a request that had an Upgrade header, answers the client
// "Connection: upgrade" (ngx_http_header_filter_module), and relays bytes
// both ways until either side closes, then finalises the request (log
// phase).
//
// Here: serve sends such a request on a connection dialed for it (not the
// keep-alive pool's: it is not given back), retrying only connection
// failures as the pool does. A 101 becomes a tunnel: header_filter runs on
// it (body_filter never does), respond registers the tunnel with its
// server and hijacks the client's connection with no response written by
// fasthttp, and the hijack handler (run) writes the 101 and relays. Any
// other answer is a normal response, its body read from that connection,
// which is closed after it. Log runs once, when the tunnel has closed.
//
// Timeouts, as nginx's ngx_http_upstream_process_upgraded: reading the
// upstream times out read_timeout after the last bytes relayed in either
// direction (nginx re-arms proxy_read_timeout at every event of the
// upgraded connection), a write to the upstream after write_timeout
// (proxy_send_timeout), a write to the client after 60 s (send_timeout);
// reading the client has no timeout of its own. The first to fail or see
// the end closes both connections.

// tunnel is one upgraded connection: the upstream's side from the 101 on,
// the client's once hijacked.
type tunnel struct {
	c           *Context
	lc          *logConn   // the client's connection
	set         *tunnelSet // its server's tunnels; nil when not registered
	up          net.Conn   // the upstream's (TLS for https)
	br          *bufio.Reader
	read, write time.Duration
	active      atomic.Int64 // monoNow of the last bytes relayed either way

	mu     sync.Mutex
	closed bool // close was called: no relay starts
	begun  bool // the relay started: close closes the client's too
}

// sendTimeout is nginx's send_timeout: a write to the client.
const sendTimeout = 60 * time.Second

// relayBuf is the most one read moves in a direction.
const relayBuf = 16 << 10

// openTunnel sends the upgrade request req upstream on a connection of its
// own and reads the answer's header into resp: a 101 leaves c.tunnel set;
// another status makes resp a normal response whose body streams from the
// connection (closed with it).
func (p *Proxy) openTunnel(c *Context, hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) error {
	s := c.Match.Service
	connect := ms(s.ConnectTimeout)
	conn, err := p.dialTunnel(hc, connect)
	for attempt := 0; err != nil && isDialError(err) && attempt < s.Retries; attempt++ {
		if c.balanced {
			if hc, err = p.retryPeer(c, err); err != nil {
				return err
			}
		}
		conn, err = p.dialTunnel(hc, connect)
	}
	if err != nil {
		return err
	}
	read, write := ms(s.ReadTimeout), ms(s.WriteTimeout)
	req.URI().DisablePathNormalizing = true // as the pool's client sends it
	bw := bufio.NewWriterSize(conn, 4<<10)
	br := bufio.NewReaderSize(conn, 4<<10)
	conn.SetWriteDeadline(time.Now().Add(write)) //nolint:errcheck // a failed write tells
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		conn.SetReadDeadline(time.Now().Add(read)) //nolint:errcheck
		err = readResponseHeader(br, &resp.Header)
	}
	if err != nil {
		conn.Close()
		return err
	}
	status := resp.StatusCode()
	if status == fasthttp.StatusSwitchingProtocols {
		c.tunnel = &tunnel{c: c, up: conn, br: br, read: read, write: write}
		return nil
	}
	// Refused: a normal response (no trailers: the chunked reader drops
	// them).
	var body io.Reader
	size := -1
	switch cl := resp.Header.ContentLength(); {
	case req.Header.IsHead() || status < 200 || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified:
		conn.Close()
		return nil
	case cl >= 0:
		body, size = io.LimitReader(br, int64(cl)), cl
	case cl == -1:
		body = httputil.NewChunkedReader(br)
	default: // until the upstream closes
		body = br
	}
	resp.SetBodyStream(&refusedBody{r: body, conn: conn, read: read}, size)
	return nil
}

var errTooManyInterim = errors.New("too many informational responses")

// readResponseHeader reads a response's header, past informational ones
// other than 101.
func readResponseHeader(br *bufio.Reader, h *fasthttp.ResponseHeader) error {
	for n := 0; ; n++ {
		if err := h.Read(br); err != nil {
			return err
		}
		if st := h.StatusCode(); st < 100 || st > 199 || st == fasthttp.StatusSwitchingProtocols {
			return nil
		}
		if n == 100 {
			return errTooManyInterim
		}
	}
}

// dialTunnel connects to hc's address as hc does (Config.Dial, the connect
// timeout, hc's TLS settings with the handshake within the timeout); a
// failure to connect is a dialError.
func (p *Proxy) dialTunnel(hc *fasthttp.HostClient, timeout time.Duration) (net.Conn, error) {
	var conn net.Conn
	var err error
	if dial := p.cfg.Dial; dial != nil {
		conn, err = dial(hc.Addr)
	} else {
		d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		conn, err = d.Dial("tcp", hc.Addr)
	}
	if err != nil {
		return nil, &dialError{err}
	}
	if hc.TLSConfig == nil {
		return conn, nil
	}
	tc := tls.Client(conn, hc.TLSConfig)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// refusedBody is the body of a refused upgrade's answer: each read bounded
// by read_timeout; closing it closes the connection.
type refusedBody struct {
	r    io.Reader
	conn net.Conn
	read time.Duration
}

func (b *refusedBody) Read(p []byte) (int, error) {
	b.conn.SetReadDeadline(time.Now().Add(b.read)) //nolint:errcheck // the read fails then
	return b.r.Read(p)
}

func (b *refusedBody) Close() error { return b.conn.Close() }

// hijack hands the client's connection to the tunnel once the handler
// returns: fasthttp writes nothing (run writes the 101 itself, so that
// neither a shutdown nor the client's Connection keeps fasthttp from
// calling it), and the tunnel is registered with the connection's server
// for Shutdown.
func (p *Proxy) hijack(c *Context) {
	t := c.tunnel
	lc := c.lc
	t.lc = lc
	if set := lc.tunnels; set != nil {
		if set.add(t) {
			t.set = set
		} else {
			t.closed = true // shutting down: closed at once
		}
	}
	lc.inTunnel.Store(true)
	lc.tunnel.Store(t)
	rc := c.RequestCtx
	rc.HijackSetNoResponse(true)
	rc.Hijack(t.run)
}

// run is the hijack handler: the 101 to the client, then the relay until
// either side ends, then Log. The RequestCtx is fasthttp's until run
// returns.
func (t *tunnel) run(cl net.Conn) {
	// Whoever takes the tunnel off the connection ends it: run, or the
	// connection's Close when fasthttp could not hijack it.
	if t.lc.tunnel.Swap(nil) == nil {
		return
	}
	if !t.begin() {
		t.up.Close()
		t.finish()
		return
	}
	c := t.c
	h := &c.RequestCtx.Response.Header
	h.ResetConnectionClose() // fasthttp's, for a shutdown or HTTP/1.0
	h.SetCanonical(hdrConnection, valUpgrade)
	c.buf = h.AppendBytes(c.buf[:0])
	cl.SetWriteDeadline(time.Now().Add(sendTimeout)) //nolint:errcheck
	if _, err := cl.Write(c.buf); err == nil {
		t.active.Store(int64(monoNow()))
		done := make(chan struct{})
		go func() {
			t.upstreamToClient(cl)
			t.close()
			close(done)
		}()
		t.clientToUpstream(cl)
		t.close()
		<-done
	} else {
		t.close()
	}
	t.finish()
}

// begin starts the relay unless the tunnel was closed.
func (t *tunnel) begin() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.begun = true
	return true
}

// close closes the upstream's connection, and the client's once the relay
// began (before, fasthttp may still be using it: run then sees closed).
func (t *tunnel) close() {
	t.mu.Lock()
	t.closed = true
	begun := t.begun
	t.mu.Unlock()
	t.up.Close()
	if begun {
		t.lc.Close()
	}
}

// abort ends a tunnel fasthttp never handed over (its connection failed
// first): logConn.Close calls it.
func (t *tunnel) abort() {
	t.up.Close()
	t.finish()
}

// finish counts the connection closed, runs Log (or releases the Context)
// and takes the tunnel off its server's list.
func (t *tunnel) finish() {
	c, set, lc := t.c, t.set, t.lc
	p := c.p
	if lc.counted.Load() {
		p.conns.move(lc, connClosed)
	}
	if c.ph != nil {
		p.log(c)
	} else {
		c.release()
	}
	if set != nil {
		set.done(t)
	}
}

// upstreamToClient relays what the upstream sends until it ends, fails,
// or reading it sits idle for read_timeout since the last bytes relayed
// either way. The deadline is moved only when it would come more than a
// 64th of the timeout early (as timedConn's).
func (t *tunnel) upstreamToClient(cl net.Conn) {
	buf := make([]byte, relayBuf)
	read := int64(t.read)
	var armed int64
	for {
		if due := t.active.Load() + read; due-armed > read/64 {
			armed = due
			t.up.SetReadDeadline(monoStart.Add(time.Duration(due))) //nolint:errcheck
		}
		n, err := t.br.Read(buf)
		if n > 0 {
			cl.SetWriteDeadline(time.Now().Add(sendTimeout)) //nolint:errcheck
			if _, werr := cl.Write(buf[:n]); werr != nil {
				return
			}
			t.active.Store(int64(monoNow()))
		}
		if err != nil {
			if isTimeout(err) && t.active.Load()+read > int64(monoNow()) {
				armed = 0 // the client sent since: wait on
				continue
			}
			return
		}
	}
}

// clientToUpstream relays what the client sends until it ends or fails,
// or a write to the upstream takes write_timeout.
func (t *tunnel) clientToUpstream(cl net.Conn) {
	buf := make([]byte, relayBuf)
	var writeAt time.Duration
	for {
		n, err := cl.Read(buf)
		if n > 0 {
			if now := monoNow(); writeAt-now < t.write-t.write/64 {
				writeAt = now + t.write
				t.up.SetWriteDeadline(monoStart.Add(writeAt)) //nolint:errcheck
			}
			if _, werr := t.up.Write(buf[:n]); werr != nil {
				return
			}
			t.active.Store(int64(monoNow()))
		}
		if err != nil {
			return
		}
	}
}

// tunnelSet is a server's open tunnels, closed by its Shutdown.
type tunnelSet struct {
	mu     sync.Mutex
	open   map[*tunnel]struct{}
	closed bool
	wg     sync.WaitGroup // one per registered tunnel, until its Log ran
}

// add registers t; false once the set is closed.
func (s *tunnelSet) add(t *tunnel) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.open == nil {
		s.open = map[*tunnel]struct{}{}
	}
	s.open[t] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *tunnelSet) done(t *tunnel) {
	s.mu.Lock()
	delete(s.open, t)
	s.mu.Unlock()
	s.wg.Done()
}

// closeAll closes every open tunnel and refuses new ones, then waits until
// their Log ran or ctx is done.
func (s *tunnelSet) closeAll(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	ts := make([]*tunnel, 0, len(s.open))
	for t := range s.open {
		ts = append(ts, t)
	}
	s.mu.Unlock()
	for _, t := range ts {
		t.close()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
