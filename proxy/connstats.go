package proxy

import (
	"net"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// Connection counters: what nginx's stub_status reports, and Kong's
// /status "server" block and the prometheus plugin's
// kong_nginx_connections_total / kong_nginx_requests_total show. Each
// connection of the proxy's listeners is in one state at a time: waiting
// (accepted or kept alive, no request yet), reading (a request's first
// byte arrived, its head not yet read) or writing (the request is being
// served and its response written). fasthttp reports the transitions
// through the ConnState hook the proxy already has (logconn.go) and the
// handler; the counters are atomics, so a request pays three atomic
// additions and no lock or allocation.

// Connection states of a logConn.
const (
	connWaiting int32 = iota
	connReading
	connWriting
	connClosed
)

// ConnStats are the proxy's connection and request counters.
type ConnStats struct {
	// Accepted and Handled count every connection accepted (nginx's
	// handled differs only when it runs out of resources).
	Accepted, Handled int64
	// Active are the open connections: Reading + Writing + Waiting.
	Active, Reading, Writing, Waiting int64
	// Requests counts every request read (answered by the proxy, by a
	// plugin, or with an error for a malformed one).
	Requests int64
}

type connCounters struct {
	accepted, active, reading, writing, requests atomic.Int64
}

// ConnStats reads the counters.
func (p *Proxy) ConnStats() ConnStats {
	c := &p.conns
	// read the states before active, so that a connection moving between
	// them does not make waiting negative
	r, w := c.reading.Load(), c.writing.Load()
	s := ConnStats{Accepted: c.accepted.Load(), Active: c.active.Load(), Reading: r, Writing: w,
		Requests: c.requests.Load()}
	s.Handled = s.Accepted
	s.Waiting = max(s.Active-r-w, 0)
	return s
}

// move puts lc in state to and adjusts the counters; a closed connection
// stays closed.
func (c *connCounters) move(lc *logConn, to int32) {
	for {
		from := lc.state.Load()
		if from == to || from == connClosed {
			return
		}
		if !lc.state.CompareAndSwap(from, to) {
			continue
		}
		switch from {
		case connReading:
			c.reading.Add(-1)
		case connWriting:
			c.writing.Add(-1)
		}
		switch to {
		case connReading:
			c.reading.Add(1)
		case connWriting:
			c.writing.Add(1)
		case connClosed:
			c.active.Add(-1)
		}
		return
	}
}

// countConn follows a connection's state from the ConnState hook.
func (p *Proxy) countConn(nc net.Conn, st fasthttp.ConnState) {
	lc := asLogConn(nc)
	if lc == nil {
		return
	}
	c := &p.conns
	switch st {
	case fasthttp.StateNew:
		if lc.counted.CompareAndSwap(false, true) {
			c.accepted.Add(1)
			c.active.Add(1)
		}
	case fasthttp.StateActive:
		c.move(lc, connReading)
	case fasthttp.StateIdle:
		c.move(lc, connWaiting)
	case fasthttp.StateHijacked:
		if lc.inTunnel.Load() {
			return // open (writing) until its tunnel ends, as nginx counts it
		}
		fallthrough
	case fasthttp.StateClosed:
		if lc.counted.Load() {
			c.move(lc, connClosed)
		}
	}
}

// countRequest counts a request whose head was read (the handler or the
// error handler runs): its connection is now writing.
func (p *Proxy) countRequest(lc *logConn) {
	p.conns.requests.Add(1)
	if lc != nil && lc.counted.Load() {
		p.conns.move(lc, connWriting)
	}
}
