package ngx

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// tcpReadChunk is how much one read asks the connection for
// (lua_socket_buffer_size's 4k).
const tcpReadChunk = 4096

// Defaults of lua_socket_keepalive_timeout and lua_socket_pool_size.
const (
	tcpKeepaliveTimeout = 60 * time.Second
	tcpPoolSize         = 30
)

// TCPSocket is ngx.socket.tcp()'s object, a cosocket that blocks the
// calling worker instead of yielding: gopher-lua cannot suspend a state on
// Go I/O, and a worker runs one handler at a time anyway. Methods answer
// as ngx_lua's (1, bytes, data, or nil, err[, partial]); an I/O error other
// than a read timeout closes the connection, as ngx_lua finalizes it.
type TCPSocket struct {
	env  *SocketEnv
	conn net.Conn // nil: not connected, closed, or handed to the pool
	raw  net.Conn // the TCP (or unix) connection under conn's TLS
	buf  []byte   // received and not yet returned

	key      string // keepalive pool: "host:port", "unix:path" or the pool option
	poolSize int    // the pool_size option of connect (0: none given)
	reused   int    // getreusedtimes
	counted  bool   // the key's pool counts this connection
	sess     *tlsSession
	// owner is the context (request, timer) that last connected it, as
	// ngx_lua's u->request: the one its I/O may run in.
	owner bind.CosocketTicket

	// settimeout(s): 0 is lua_socket_*_timeout's 60 s default
	connectTO, sendTO, readTO time.Duration
}

// SocketEnv is what ngx.socket takes from its worker: the memory budget
// that reads sized by Lua are charged to, the keepalive pools (shared by
// the workers of a Root) and the roots sslhandshake verifies against.
type SocketEnv struct {
	Budget *bind.Budget
	Pools  *TCPPools
	// RootCAs is lua_ssl_trusted_certificate's pool; nil (or a nil
	// result): the system's roots.
	RootCAs func() *x509.CertPool
	// Owner is the context the worker runs now: a socket connected in it
	// is closed when it ends, unless closed or pooled before (nil: never).
	Owner *bind.CosocketOwner
	// Resolve resolves the host names of tcp's connect and udp's
	// setpeername (nil: Go's resolver, when dialing).
	Resolve bind.Resolver
	// Phase is ngx.get_phase()'s answer now: tcp(), udp(), connect and
	// setpeername raise ngx_lua's "API disabled in the context of ..."
	// outside its yieldable contexts (nil: no check).
	Phase func() string
}

// checkContext raises ngx_lua's message when the worker's context cannot
// use a cosocket (ngx_http_lua_check_context with
// NGX_HTTP_LUA_CONTEXT_YIELDABLE, at creation and at connect).
func (e *SocketEnv) checkContext(L *lua.LState) {
	if e != nil && e.Phase != nil {
		bind.CheckContext(L, e.Phase(), bind.Yieldable)
	}
}

func (s *TCPSocket) timeout(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return 60 * time.Second
}

// deadline is the time an operation of timeout d must end by.
func deadline(d time.Duration) time.Time { return time.Now().Add(d) }

// guard makes the worker's deadline (L's context, cancelled when the
// phase's lua_timeout fires) interrupt a blocking I/O on conn: a read or
// write in progress fails at once instead of holding the worker for the
// socket's own timeout. stop disarms it.
func guard(L *lua.LState, conn net.Conn) (stop func() bool) {
	ctx := L.Context()
	if ctx == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}

// sockErr is ngx_lua's text for an I/O error: "timeout", "closed", or
// strerror's lowercase text ("connection refused", "broken pipe",
// "connection reset by peer").
func sockErr(err error) string {
	var ne net.Error
	var errno syscall.Errno
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return "closed"
	case errors.As(err, &errno):
		return strings.ToLower(errno.Error())
	}
	return err.Error()
}

// finalize closes the connection, as ngx_lua does after an error.
func (s *TCPSocket) finalize() {
	if s.conn != nil {
		_ = s.conn.Close()
		if s.counted {
			s.env.Pools.release(s.key)
		}
		s.owner.Untrack(s)
	}
	s.conn, s.raw, s.buf, s.sess, s.counted = nil, nil, nil, nil, false
}

// Abort closes the socket when its context ends (bind.Cosocket).
func (s *TCPSocket) Abort() { s.finalize() }

// mine raises ngx_lua's "bad request" when the socket, open, is used
// outside the context that connected it (another request, a timer).
func (s *TCPSocket) mine(L *lua.LState) {
	if !s.env.Owner.Owns(s.owner) {
		L.Error(lua.LString("bad request"), 0) // luaL_error from C: no position
	}
}

// opened tracks the socket, just connected, in its context.
func (s *TCPSocket) opened() { s.owner.Track(s) }

// failIO returns nil, err for a failed send and closes the socket.
func (s *TCPSocket) failIO(L *lua.LState, err error) int {
	msg := sockErr(err)
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		msg = "timeout"
	}
	s.finalize()
	return bind.Fail(L, msg)
}

func checkTCP(L *lua.LState) *TCPSocket {
	return bind.CheckUserData[*TCPSocket](L, 1, "tcp socket expected")
}

// argError raises "bad argument #k to 'fname' (msg)" for argument n of a
// method, k counting from the first argument after self, as LuaJIT counts
// for a method call (sock:receive("*x") is argument #1).
func argError(L *lua.LState, fname string, n int, msg string) {
	bind.ArgError(L, n-1, fname, msg)
}

func argCount(L *lua.LState, ok bool, msg string) {
	if !ok {
		L.RaiseError("%s, but got %d", msg, L.GetTop())
	}
}

// tcpMethods are the methods of ngx.socket.tcp()'s object.
func tcpMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"connect":        tcpConnect,
		"sslhandshake":   tcpSSLHandshake,
		"send":           tcpSend,
		"receive":        tcpReceive,
		"receiveany":     tcpReceiveAny,
		"receiveuntil":   tcpReceiveUntil,
		"close":          tcpClose,
		"settimeout":     tcpSetTimeout,
		"settimeouts":    tcpSetTimeouts,
		"setoption":      tcpSetOption,
		"setkeepalive":   tcpSetKeepalive,
		"getreusedtimes": tcpGetReusedTimes,
	}
}

// tcpConnect is connect(host, port, options?) or connect("unix:/path",
// options?): a pooled connection of the same key when one is idle, else a
// new one (the worker's deadline bounds the wait). A name is resolved
// first by the node's DNS client (bind.Resolver.Peer), the pool keyed by the
// address it gives, as Kong's patched connect passes that address on.
func tcpConnect(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 || n > 4 {
		L.RaiseError("ngx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen %d", n)
	}
	s := checkTCP(L)
	s.env.checkContext(L)
	host := luavm.CheckString(L, 2)
	pool, poolSize, backlog := "", 0, -1
	if opts, ok := L.Get(n).(*lua.LTable); ok {
		switch v := opts.RawGetString("pool").(type) {
		case lua.LString:
			pool = string(v)
		case lua.LNumber:
			pool = luavm.FormatNumber(float64(v))
		default:
			if v != lua.LNil {
				argError(L, "connect", n, "bad \"pool\" option type: "+v.Type().String())
			}
		}
		switch v := opts.RawGetString("pool_size").(type) {
		case lua.LNumber:
			if poolSize = int(v); poolSize <= 0 {
				argError(L, "connect", n, "bad \"pool_size\" option value: "+strconv.Itoa(poolSize))
			}
		default:
			if v != lua.LNil {
				argError(L, "connect", n, "bad \"pool_size\" option type: "+v.Type().String())
			}
		}
		switch v := opts.RawGetString("backlog").(type) {
		case lua.LNumber:
			if backlog = int(v); backlog < 0 {
				argError(L, "connect", n, "bad \"backlog\" option value: "+strconv.Itoa(backlog))
			}
		default:
			if v != lua.LNil {
				argError(L, "connect", n, "bad \"backlog\" option type: "+v.Type().String())
			}
		}
		n--
	}
	var network, addr, key string
	if path, ok := strings.CutPrefix(host, "unix:"); ok {
		network, addr, key = "unix", path, host
	} else {
		port := 0
		if n >= 3 {
			p, ok := luavm.ToNumber(L.Get(3))
			if !ok {
				L.TypeError(3, lua.LTNumber)
			}
			port = int(bind.ClampSize(p))
		} else if h, p, err := net.SplitHostPort(host); err == nil {
			host = h
			port, _ = strconv.Atoi(p)
		} else {
			return bind.Fail(L, "failed to parse host name \""+host+"\": invalid port")
		}
		if port < 0 || port > 65535 {
			return bind.Fail(L, "bad port number: "+strconv.Itoa(port))
		}
		var msg string
		if host, port, msg = s.env.Resolve.Peer(L.Context(), host, port); msg != "" {
			return bind.Fail(L, msg)
		}
		network, addr = "tcp", net.JoinHostPort(host, strconv.Itoa(port))
		key = host + ":" + strconv.Itoa(port)
	}
	if pool != "" {
		key = pool
	}
	s.mine(L)    // even closed: ngx_lua checks the controlling request first
	s.finalize() // a second connect replaces the first connection
	s.owner = s.env.Owner.Ticket()
	s.key, s.poolSize, s.reused = key, poolSize, 0
	if ic := s.env.Pools.get(key); ic != nil {
		s.conn, s.raw, s.reused, s.sess, s.counted = ic.conn, ic.raw, ic.reused+1, ic.sess, true
		s.opened()
		L.Push(lua.LNumber(1))
		return 1
	}
	counted, msg := s.env.Pools.acquire(L, key, poolSize, backlog, s.timeout(s.connectTO))
	if msg != "" {
		return bind.Fail(L, msg)
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	d := net.Dialer{Timeout: s.timeout(s.connectTO)}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		if counted {
			s.env.Pools.release(key)
		}
		var dnsErr *net.DNSError
		switch {
		case ctx.Err() != nil:
			return bind.Fail(L, "timeout")
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return bind.Fail(L, host+" could not be resolved (3: Host not found)")
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
			return bind.Fail(L, host+" could not be resolved (110: Operation timed out)")
		case errors.As(err, &dnsErr):
			return bind.Fail(L, host+" could not be resolved (2: Server failure)")
		}
		return bind.Fail(L, sockErr(err))
	}
	s.conn, s.raw, s.counted = conn, conn, counted
	s.opened()
	L.Push(lua.LNumber(1))
	return 1
}

// tcpSend is send(data): a string, number, boolean, nil or a (nested)
// array of them, written whole; the number of bytes, or nil, err.
func tcpSend(L *lua.LState) int {
	argCount(L, L.GetTop() == 2, "expecting 2 arguments (including the object)")
	s := checkTCP(L)
	// ngx_lua's order: closed, then bad request, then the data
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	s.mine(L)
	data := sendData(L, 2, s.env.Budget)
	_ = s.conn.SetWriteDeadline(deadline(s.timeout(s.sendTO)))
	stop := guard(L, s.conn)
	_, err := s.conn.Write(data)
	stop()
	if err != nil {
		return s.failIO(L, err)
	}
	L.Push(lua.LNumber(len(data)))
	return 1
}

// sendData is the tcp and udp send's argument as bytes, flattened as ngx_lua does (and
// ngx.say): numbers as Lua prints them, booleans and nil by name, an array
// table by appendSendTable, within the worker's memory budget.
func sendData(L *lua.LState, n int, budget *bind.Budget) []byte {
	v := L.Get(n)
	switch v := v.(type) {
	case lua.LString:
		return []byte(v)
	case *lua.LTable:
		b := appendSendTable(L, nil, v, func(msg string) { argError(L, "send", n, msg) }, 0, budget.Left())
		budget.Reserve(L, int64(len(b)), 1)
		return b
	case lua.LNumber:
		return []byte(luavm.FormatNumber(float64(v)))
	case lua.LBool:
		return []byte(v.String())
	}
	if v == lua.LNil {
		return []byte("nil")
	}
	argError(L, "send", n, "string, number, boolean, nil, or array table expected, got "+v.Type().String())
	return nil
}

func tcpClose(L *lua.LState) int {
	argCount(L, L.GetTop() == 1, "expecting 1 argument (including the object)")
	s := checkTCP(L)
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	s.mine(L)
	s.finalize()
	L.Push(lua.LNumber(1))
	return 1
}

// timeoutArg is a settimeout(s) argument in ms, read as lua_tonumber
// does (nil or a non-number is 0: the default): negative or past 2^31
// raises "bad timeout value" as ngx_lua.
func timeoutArg(L *lua.LState, n int) time.Duration {
	ms, _ := luavm.ToNumber(L.Get(n))
	if ms < 0 || ms >= 1<<31 || ms != ms {
		L.RaiseError("bad timeout value")
	}
	return time.Duration(int64(ms)) * time.Millisecond
}

func tcpSetTimeout(L *lua.LState) int {
	if L.GetTop() != 2 {
		L.RaiseError("ngx.socket settimout: expecting 2 arguments (including the object) but seen %d", L.GetTop())
	}
	s := checkTCP(L)
	d := timeoutArg(L, 2)
	s.connectTO, s.sendTO, s.readTO = d, d, d
	return 0
}

func tcpSetTimeouts(L *lua.LState) int {
	if L.GetTop() != 4 {
		L.RaiseError("ngx.socket settimeout: expecting 4 arguments (including the object) but seen %d", L.GetTop())
	}
	s := checkTCP(L)
	s.connectTO, s.sendTO, s.readTO = timeoutArg(L, 2), timeoutArg(L, 3), timeoutArg(L, 4)
	return 0
}

// tcpSetOption is setoption(name, value): keepalive, reuseaddr,
// tcp-nodelay, sndbuf, rcvbuf, as far as Go's net.TCPConn sets them
// (reuseaddr is accepted and has no effect on a connected socket).
func tcpSetOption(L *lua.LState) int {
	s := checkTCP(L)
	name := luavm.CheckString(L, 2)
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	tc, _ := s.raw.(*net.TCPConn)
	flag := func() bool {
		switch v := L.Get(3).(type) {
		case lua.LBool:
			return bool(v)
		case lua.LNumber:
			return v != 0
		}
		argError(L, "setoption", 3, "bad option value")
		return false
	}
	size := func() int {
		v := L.CheckInt(3)
		if v <= 0 {
			argError(L, "setoption", 3, "bad option value")
		}
		return v
	}
	var err error
	switch name {
	case "keepalive":
		on := flag()
		if tc != nil {
			err = tc.SetKeepAlive(on)
		}
	case "reuseaddr":
		flag()
	case "tcp-nodelay":
		on := flag()
		if tc != nil {
			err = tc.SetNoDelay(on)
		}
	case "sndbuf":
		v := size()
		if tc != nil {
			err = tc.SetWriteBuffer(v)
		}
	case "rcvbuf":
		v := size()
		if tc != nil {
			err = tc.SetReadBuffer(v)
		}
	default:
		argError(L, "setoption", 2, "unsupported option "+name)
	}
	if err != nil {
		return bind.Fail(L, sockErr(err))
	}
	L.Push(lua.LTrue)
	return 1
}

func tcpGetReusedTimes(L *lua.LState) int {
	argCount(L, L.GetTop() == 1, "expecting 1 argument (including the object)")
	s := checkTCP(L)
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	L.Push(lua.LNumber(s.reused))
	return 1
}

// tcpSetKeepalive is setkeepalive(timeout?, size?): the connection goes
// to its key's pool, idle for at most timeout ms (0: no limit), and the
// object is closed; nil, "unread data in buffer" when a read left bytes.
func tcpSetKeepalive(L *lua.LState) int {
	n := L.GetTop()
	argCount(L, n >= 1 && n <= 3, "expecting 1 to 3 arguments (including the object)")
	s := checkTCP(L)
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	s.mine(L)
	timeout := tcpKeepaliveTimeout
	if n >= 2 && L.Get(2) != lua.LNil {
		ms := L.CheckInt64(2)
		if ms < 0 {
			argError(L, "setkeepalive", 2, "invalid keepalive timeout: "+strconv.FormatInt(ms, 10))
		}
		timeout = time.Duration(ms) * time.Millisecond
	}
	size := s.poolSize
	if n >= 3 && L.Get(3) != lua.LNil {
		size = L.CheckInt(3)
		if size <= 0 {
			argError(L, "setkeepalive", 3, "invalid pool size: "+strconv.Itoa(size))
		}
	}
	if size == 0 {
		size = tcpPoolSize
	}
	if len(s.buf) > 0 {
		return bind.Fail(L, "unread data in buffer")
	}
	ic := &idleConn{conn: s.conn, raw: s.raw, reused: s.reused, sess: s.sess}
	s.env.Pools.put(s.key, size, timeout, ic, s.counted)
	s.owner.Untrack(s)
	s.conn, s.raw, s.sess, s.counted = nil, nil, nil, false
	L.Push(lua.LNumber(1))
	return 1
}

// NewSocket returns the ngx.socket table: tcp (and its alias stream, as
// lua-nginx-module's http subsystem has it), connect (tcp() then
// connect(...)) and udp.
func NewSocket(L *lua.LState, env *SocketEnv) *lua.LTable {
	if env == nil {
		env = &SocketEnv{}
	}
	if env.Pools == nil {
		env.Pools = &TCPPools{}
	}
	tmt := L.NewTable()
	tmt.RawSetString("__index", L.SetFuncs(L.NewTable(), tcpMethods()))
	newTCP := func(L *lua.LState) *lua.LUserData {
		return bind.NewUserData(L, &TCPSocket{env: env}, tmt)
	}
	t := L.NewTable()
	tcp := L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 0 {
			L.RaiseError("expecting zero arguments, but got %d", L.GetTop())
		}
		env.checkContext(L)
		L.Push(newTCP(L))
		return 1
	})
	t.RawSetString("tcp", tcp)
	t.RawSetString("stream", tcp)
	connect := L.GetField(tmt.RawGetString("__index"), "connect").(*lua.LFunction)
	t.RawSetString("connect", L.NewFunction(func(L *lua.LState) int {
		env.checkContext(L)
		sock := newTCP(L)
		args := make([]lua.LValue, 0, L.GetTop()+1)
		args = append(args, sock)
		for i := 1; i <= L.GetTop(); i++ {
			args = append(args, L.Get(i))
		}
		L.Push(connect)
		for _, a := range args {
			L.Push(a)
		}
		L.Call(len(args), 2)
		ok, err := L.Get(-2), L.Get(-1)
		L.Pop(2)
		if ok == lua.LNil {
			L.Push(lua.LNil)
			L.Push(err)
			return 2
		}
		L.Push(sock)
		return 1
	}))
	t.RawSetString("udp", newUDP(L, env))
	return t
}

// appendSendTable appends the array table t flattened as ngx_lua's
// ngx_http_lua_calc_strlen_in_table/copy_str_in_table do for the tcp and
// udp sends: strings as they are, numbers as Lua prints them, booleans and
// nil by name, ngx.null as "null", nested arrays in place; any other
// element is reported to bad ("bad data type T found"), which raises.
// Data past limit bytes (an array shared 2^40 ways) raises "not enough
// memory", as the memory budget does.
func appendSendTable(L *lua.LState, b []byte, t *lua.LTable, bad func(msg string), depth int, limit int64) []byte {
	if depth > 64 {
		// a table holding itself (ngx.say's limit: the walk is in Go,
		// whose stack must not be what stops it)
		L.RaiseError("table nested too deeply")
	}
	if int64(len(b)) > limit {
		L.RaiseError(bind.ErrNoMemory)
	}
	for i := 1; i <= t.Len(); i++ {
		switch e := t.RawGetInt(i).(type) {
		case lua.LString:
			b = append(b, e...)
		case lua.LNumber:
			b = luavm.AppendNumber(b, float64(e))
		case lua.LBool:
			b = append(b, e.String()...)
		case *lua.LTable:
			b = appendSendTable(L, b, e, bad, depth+1, limit)
		case *lua.LUserData:
			if e != bind.Null(L) {
				bad("bad data type userdata found")
			}
			b = append(b, "null"...)
		default:
			if e == lua.LNil {
				b = append(b, "nil"...)
				continue
			}
			bad("bad data type " + e.Type().String() + " found")
		}
	}
	return b
}
