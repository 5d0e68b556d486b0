package ngx

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// TCPPools are ngx.socket.tcp's connection pools (setkeepalive, connect's
// pool / pool_size / backlog options), one per key, shared by the workers
// of a pdk.Root, which holds one; the zero value is ready.
//
// As in ngx_lua, a pool has a size fixed when it is made (connect's
// pool_size, else setkeepalive's size, else lua_socket_pool_size's 30),
// keeps its most recently released connections and closes the least
// recently used one past its size; it counts the connections of its key
// that are open (idle or in use) and goes away when that count is zero.
// With a backlog, a connect finding size connections open waits for one
// to be released (at most backlog waiting, for the connect timeout).
type TCPPools struct {
	mu sync.Mutex
	m  map[string]*tcpPool
}

type tcpPool struct {
	size    int
	conns   int             // open connections counted by the pool
	idle    []*idleConn     // most recently released last
	waiters []chan struct{} // connects waiting for a connection to be released
}

// idleConn is a connection kept by setkeepalive. While it is idle a
// goroutine reads one byte from it with the idle timeout as deadline:
// data from the peer, its close or the timeout end the wait and the
// connection (ngx_lua's keepalive close handler does the same); get
// interrupts the read by moving its deadline to the past. done is closed
// once the read has ended and, unless get took it, the connection is out
// of the pool.
type idleConn struct {
	conn, raw net.Conn
	reused    int
	sess      *tlsSession
	done      chan struct{}
	n         int   // what the watching read returned
	err       error //
}

func (p *TCPPools) pool(key string, size int) *tcpPool {
	if p.m == nil {
		p.m = map[string]*tcpPool{}
	}
	tp := p.m[key]
	if tp == nil && size > 0 {
		tp = &tcpPool{size: size}
		p.m[key] = tp
	}
	return tp
}

// drop forgets one open connection of key's pool (closed, or found dead
// while idle), waking a waiting connect; mu is held.
func (p *TCPPools) drop(key string, tp *tcpPool) {
	tp.conns--
	if len(tp.waiters) > 0 {
		close(tp.waiters[0])
		tp.waiters = tp.waiters[1:]
	}
	if tp.conns <= 0 && len(tp.idle) == 0 && len(tp.waiters) == 0 {
		delete(p.m, key)
	}
}

// get takes the most recently released live connection of key's pool,
// nil when there is none.
func (p *TCPPools) get(key string) *idleConn {
	for {
		p.mu.Lock()
		tp := p.pool(key, 0)
		if tp == nil || len(tp.idle) == 0 {
			p.mu.Unlock()
			return nil
		}
		ic := tp.idle[len(tp.idle)-1]
		tp.idle = tp.idle[:len(tp.idle)-1]
		p.mu.Unlock()
		_ = ic.raw.SetReadDeadline(time.Unix(1, 0))
		<-ic.done
		if ic.n == 0 && errors.Is(ic.err, os.ErrDeadlineExceeded) {
			_ = ic.raw.SetReadDeadline(time.Time{})
			return ic
		}
		_ = ic.conn.Close()
		p.mu.Lock()
		p.drop(key, tp)
		p.mu.Unlock()
	}
}

// put keeps ic idle in key's pool (made of size when missing) for at
// most timeout (0: no limit). counted says whether the pool counts it
// already (it was opened or taken under this key while the pool existed).
func (p *TCPPools) put(key string, size int, timeout time.Duration, ic *idleConn, counted bool) {
	ic.done = make(chan struct{})
	if timeout > 0 {
		_ = ic.raw.SetReadDeadline(time.Now().Add(timeout))
	} else {
		_ = ic.raw.SetReadDeadline(time.Time{})
	}
	p.mu.Lock()
	tp := p.pool(key, size)
	if !counted {
		tp.conns++
	}
	if len(tp.idle) >= tp.size {
		old := tp.idle[0]
		tp.idle = tp.idle[1:]
		_ = old.conn.Close() // its watcher ends and finds it gone
		p.drop(key, tp)
	}
	tp.idle = append(tp.idle, ic)
	p.mu.Unlock()
	go func() {
		var b [1]byte
		n, err := ic.raw.Read(b[:])
		p.mu.Lock()
		for i, c := range tp.idle {
			if c == ic { // not taken: the peer spoke or closed, or the idle timeout
				tp.idle = append(tp.idle[:i], tp.idle[i+1:]...)
				_ = ic.conn.Close()
				p.drop(key, tp)
				break
			}
		}
		p.mu.Unlock()
		ic.n, ic.err = n, err
		close(ic.done)
	}()
}

// acquire counts a new connection of key in its pool (made of size when
// missing and size > 0). With a backlog (>= 0) and size connections open
// it waits, at most timeout and the worker's deadline, for one to be
// released. counted is false when there is no pool to count in; msg is
// connect's error.
func (p *TCPPools) acquire(L *lua.LState, key string, size, backlog int, timeout time.Duration) (counted bool, msg string) {
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var timer <-chan time.Time
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		tp := p.pool(key, size)
		if tp == nil {
			return false, ""
		}
		if backlog < 0 || tp.conns < tp.size {
			tp.conns++
			return true, ""
		}
		if len(tp.waiters) >= backlog {
			return false, "too many waiting connect operations"
		}
		if timer == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			timer = t.C
		}
		ch := make(chan struct{})
		tp.waiters = append(tp.waiters, ch)
		p.mu.Unlock()
		var fail string
		select {
		case <-ch:
		case <-timer:
			fail = "timeout"
		case <-ctx.Done():
			fail = "timeout"
		}
		p.mu.Lock()
		if fail != "" {
			woken := true
			for i, w := range tp.waiters {
				if w == ch {
					tp.waiters = append(tp.waiters[:i], tp.waiters[i+1:]...)
					woken = false
					break
				}
			}
			if woken && len(tp.waiters) > 0 { // pass the release on
				close(tp.waiters[0])
				tp.waiters = tp.waiters[1:]
			}
			return false, fail
		}
	}
}

// release forgets a connection of key the pool counted (closed, or
// failed).
func (p *TCPPools) release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tp := p.pool(key, 0); tp != nil {
		p.drop(key, tp)
	}
}
