package ngx

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// udpMaxDatagram is receive's buffer when no size is given (ngx_lua's
// 8192), and the largest size accepted.
const (
	udpDefaultSize = 8192
	udpMaxSize     = 65536
)

// UDPSocket is ngx.socket.udp()'s object: a connected datagram socket
// (setpeername), send, receive, settimeout, close, with ngx_lua's returns
// (1 or nil, err) and messages ("closed", "timeout").
type UDPSocket struct {
	mu      sync.Mutex
	conn    net.Conn
	timeout time.Duration // 0: lua_socket_read_timeout's 60 s
	// owner is the context that called setpeername (ngx_lua's
	// u->request), closing it when it ends.
	owner bind.CosocketTicket
}

// Abort closes the socket when its context ends (bind.Cosocket).
func (s *UDPSocket) Abort() { s.close() }

func (s *UDPSocket) readTimeout() time.Duration {
	if s.timeout > 0 {
		return s.timeout
	}
	return 60 * time.Second
}

func (s *UDPSocket) close() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return false
	}
	_ = s.conn.Close()
	s.conn = nil
	s.owner.Untrack(s)
	return true
}

func (s *UDPSocket) current() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// newUDP is ngx.socket.udp.
func newUDP(L *lua.LState, env *SocketEnv) *lua.LFunction {
	owner := env.Owner
	mt := L.NewTable()
	check := func(L *lua.LState) *UDPSocket {
		return bind.CheckUserData[*UDPSocket](L, 1, "udp socket")
	}
	// mine raises ngx_lua's "bad request" for a socket used outside the
	// context that set its peer.
	mine := func(L *lua.LState, s *UDPSocket) {
		if !owner.Owns(s.owner) {
			L.Error(lua.LString("bad request"), 0) // luaL_error from C: no position
		}
	}
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"setpeername": func(L *lua.LState) int {
			s := check(L)
			env.checkContext(L)
			host := luavm.CheckString(L, 2)
			var network, addr string
			if path, ok := strings.CutPrefix(host, "unix:"); ok {
				network, addr = "unixgram", path
			} else {
				port := L.CheckInt(3)
				if port < 0 || port > 65535 {
					return bind.Fail(L, "bad port number: "+strconv.Itoa(port))
				}
				var msg string
				if host, port, msg = env.Resolve.Peer(L.Context(), host, port); msg != "" {
					return bind.Fail(L, msg)
				}
				network, addr = "udp", net.JoinHostPort(host, strconv.Itoa(port))
			}
			mine(L, s) // even closed: ngx_lua checks the controlling request first
			s.close()  // a second setpeername replaces the first peer
			s.owner = owner.Ticket()
			conn, err := net.DialTimeout(network, addr, s.readTimeout())
			if err != nil {
				var dnsErr *net.DNSError
				if errors.As(err, &dnsErr) {
					return bind.Fail(L, host+" could not be resolved")
				}
				return bind.Fail(L, err.Error())
			}
			s.mu.Lock()
			s.conn = conn
			s.mu.Unlock()
			s.owner.Track(s)
			L.Push(lua.LNumber(1))
			return 1
		},
		"send": func(L *lua.LState) int {
			s := check(L)
			conn := s.current()
			if conn == nil {
				return bind.Fail(L, "closed")
			}
			mine(L, s)
			// ngx_lua flattens both sends alike, after the closed and
			// bad request checks
			data := sendData(L, 2, env.Budget)
			if _, err := conn.Write(data); err != nil {
				return bind.Fail(L, err.Error())
			}
			L.Push(lua.LNumber(1))
			return 1
		},
		"receive": func(L *lua.LState) int {
			s := check(L)
			size := udpDefaultSize
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				size = L.CheckInt(2)
				if size <= 0 || size > udpMaxSize {
					L.ArgError(2, "bad size argument: "+strconv.Itoa(size))
				}
			}
			conn := s.current()
			if conn == nil {
				return bind.Fail(L, "closed")
			}
			mine(L, s)
			_ = conn.SetReadDeadline(time.Now().Add(s.readTimeout()))
			buf := make([]byte, size)
			n, err := conn.Read(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return bind.Fail(L, "timeout")
				}
				return bind.Fail(L, err.Error())
			}
			L.Push(lua.LString(buf[:n]))
			return 1
		},
		"settimeout": func(L *lua.LState) int {
			s := check(L)
			ms := float64(L.CheckNumber(2))
			s.mu.Lock()
			s.timeout = time.Duration(ms * float64(time.Millisecond))
			s.mu.Unlock()
			return 0
		},
		"close": func(L *lua.LState) int {
			s := check(L)
			if s.current() == nil {
				return bind.Fail(L, "closed")
			}
			mine(L, s)
			s.close()
			L.Push(lua.LNumber(1))
			return 1
		},
	}))
	return L.NewFunction(func(L *lua.LState) int {
		env.checkContext(L)
		L.Push(bind.NewUserData(L, &UDPSocket{}, mt))
		return 1
	})
}
