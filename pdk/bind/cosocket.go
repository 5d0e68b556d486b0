package bind

import (
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// Timeouts are a cosocket client's connect/send/read timeouts, as
// set_timeout(ms) and set_timeouts(connect, send, read) set them
// (resty.http, resty.redis).
type Timeouts struct {
	ConnectTO, SendTO, ReadTO time.Duration
}

// DefaultTimeouts are OpenResty's lua_socket_*_timeout defaults: 60 s each.
func DefaultTimeouts() Timeouts {
	return Timeouts{ConnectTO: 60 * time.Second, SendTO: 60 * time.Second, ReadTO: 60 * time.Second}
}

// TimeoutMethods are set_timeout and set_timeouts for a client type whose
// userdata check returns its timeouts. Their arguments are read as
// ngx_lua's settimeout(s) reads them (lua_tonumber: nil or a non-number
// is 0), and 0 is lua_socket_*_timeout's default: Kong's rate-limiting
// calls set_timeout(conf.redis.timeout) with no timeout configured.
func TimeoutMethods(check func(L *lua.LState) *Timeouts) map[string]lua.LGFunction {
	arg := func(L *lua.LState, n int) time.Duration {
		ms, _ := luavm.ToNumber(L.Get(n))
		if ms < 0 || ms >= 1<<31 || ms != ms {
			L.RaiseError("bad timeout value")
		}
		if ms == 0 {
			return 60 * time.Second
		}
		return time.Duration(ms * float64(time.Millisecond))
	}
	return map[string]lua.LGFunction{
		"set_timeout": func(L *lua.LState) int {
			t := check(L)
			d := arg(L, 2)
			t.ConnectTO, t.SendTO, t.ReadTO = d, d, d
			return 0
		},
		"set_timeouts": func(L *lua.LState) int {
			t := check(L)
			t.ConnectTO, t.SendTO, t.ReadTO = arg(L, 2), arg(L, 3), arg(L, 4)
			return 0
		},
	}
}

// Cosocket is a connection a context owns while it is open and not pooled
// (ngx.socket.tcp, ngx.socket.udp, resty.redis): Abort closes it when
// its context ends, releasing its keepalive-pool slot, as ngx_lua's
// request cleanup (ngx_http_lua_socket_tcp_cleanup) finalizes the
// cosockets a request left open.
type Cosocket interface{ Abort() }

// Cosockets are the cosockets one context (a request's phases, a timer
// callback, the worker outside both) opened and has not closed or pooled.
// The zero value is ready; it allocates only when a cosocket connects.
// Used by its worker's goroutine only.
type Cosockets struct {
	gen  uint64 // ended contexts: a Cosockets is reused by later ones
	open []Cosocket
	// base: the worker's own context, which never ends; its cosockets
	// are not tracked (closed when closed, or collected with their file).
	base bool
}

// End ends the context: every cosocket still open is aborted, and the
// cosockets it made answer "bad request" to a later context.
func (s *Cosockets) End() {
	s.gen++
	if len(s.open) == 0 {
		return
	}
	open := s.open
	for _, c := range open {
		c.Abort() // Untrack of an ended context does nothing
	}
	clear(open)
	s.open = open[:0]
}

// Open is the number of cosockets open in the context.
func (s *Cosockets) Open() int { return len(s.open) }

// CosocketOwner is the context a worker runs now: pdk switches it to a
// request's Cosockets around each of its phases, to a timer's around its
// callback; outside them it is the worker's own.
type CosocketOwner struct {
	cur  *Cosockets // nil: base
	base Cosockets
}

// Switch makes s the current context (nil: the worker's own) and returns
// the previous one.
func (o *CosocketOwner) Switch(s *Cosockets) (prev *Cosockets) {
	prev, o.cur = o.cur, s
	return prev
}

func (o *CosocketOwner) current() *Cosockets {
	if o.cur == nil {
		o.base.base = true
		return &o.base
	}
	return o.cur
}

// CosocketTicket names the context a cosocket was connected in (ngx_lua's
// u->request); the zero ticket is a cosocket never connected.
type CosocketTicket struct {
	set *Cosockets
	gen uint64
}

// Ticket is the current context's ticket (a nil owner: a zero ticket).
func (o *CosocketOwner) Ticket() CosocketTicket {
	if o == nil {
		return CosocketTicket{}
	}
	s := o.current()
	return CosocketTicket{set: s, gen: s.gen}
}

// Owns reports whether t is the current context's (or zero, or the owner
// is nil): ngx_lua raises "bad request" when a cosocket is used by
// another request than the one that connected it.
func (o *CosocketOwner) Owns(t CosocketTicket) bool {
	if o == nil || t.set == nil {
		return true
	}
	s := o.current()
	return t.set == s && t.gen == s.gen
}

// Track adds c, just connected, to t's context when it is still running;
// it reports false (c not tracked) otherwise.
func (t CosocketTicket) Track(c Cosocket) bool {
	if t.set == nil || t.set.base || t.set.gen != t.gen {
		return false
	}
	t.set.open = append(t.set.open, c)
	return true
}

// Untrack removes c (closed or pooled) from t's context.
func (t CosocketTicket) Untrack(c Cosocket) {
	if t.set == nil || t.set.gen != t.gen {
		return
	}
	open := t.set.open
	for i := len(open) - 1; i >= 0; i-- {
		if open[i] == c {
			copy(open[i:], open[i+1:])
			open[len(open)-1] = nil
			t.set.open = open[:len(open)-1]
			return
		}
	}
}
