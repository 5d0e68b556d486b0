// Package restyredis is the module resty.redis (lua-resty-redis 0.30),
// Go-backed over net.Conn with RESP2:
//
//	new() -> client; client:connect(host, port, opts) (host may be
//	"unix:/path"; opts.ssl, ssl_verify, server_name, pool);
//	set_timeout(ms) / set_timeouts(connect, send, read);
//	any Redis command as a method (red:get(k), red:incrby(k, n),
//	red:eval(script, n, ...)), table arguments flattened;
//	init_pipeline() / commit_pipeline() / cancel_pipeline();
//	set_keepalive(idle_ms, pool_size) / get_reused_times() / close().
//
// Replies: status -> string, integer -> number, nil bulk/array -> ngx.null,
// error reply -> false, "ERR ..." (inside arrays and pipelines { false,
// "ERR ..." }); I/O errors -> nil, "timeout" | "closed" | "connection
// refused" | Go's message. Not covered: subscribe/read_reply,
// hmset/array_to_hash helpers, add_commands (commands are dynamic). A
// host name is resolved by Open's resolver (the node's DNS client, as
// Kong's patched cosocket connect does), the default pool keyed by the
// address it gives.
package restyredis

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

const restyRedisType = "luahost.resty.redis"

type redisClient struct {
	conn   net.Conn
	rd     *bufio.Reader
	key    string // keepalive pool key
	reused int
	bind.Timeouts
	pipeline   [][]byte
	pipelining bool
	// owner is the context (request, timer) that connected it: its end
	// closes the connection unless closed or pooled before, as ngx_lua's
	// cleanup does lua-resty-redis's cosocket.
	owner bind.CosocketTicket
}

// Abort closes the connection when its context ends (bind.Cosocket).
func (c *redisClient) Abort() { c.closeConn() }

type redisIdle struct {
	conn   net.Conn
	rd     *bufio.Reader
	reused int
	until  time.Time
}

// Pools holds the connections set_keepalive left idle, per pool name,
// for every worker of a pdk.Root (which holds one); the zero value is
// ready.
type Pools struct {
	mu sync.Mutex
	m  map[string][]redisIdle
}

// lock locks p, making its map on first use.
func (p *Pools) lock() {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string][]redisIdle{}
	}
}

func redisErr(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return err.Error()
}

// maxCmdParts bounds the bulk strings of one command, so that an argument
// table shared 2^40 ways is refused instead of flattened.
const maxCmdParts = 1 << 20

// encodeRedisCmd writes one RESP array of bulk strings. Table arguments
// are flattened as ngx.print flattens them, with its "table nested too
// deeply" for a table holding itself (lua-resty-redis itself would send
// tostring(t)).
func encodeRedisCmd(L *lua.LState, name string, args []lua.LValue) ([]byte, error) {
	parts := []string{name}
	depth := 0
	var add func(v lua.LValue) error
	add = func(v lua.LValue) error {
		if len(parts) > maxCmdParts {
			return errors.New("too many arguments")
		}
		switch x := v.(type) {
		case lua.LString:
			parts = append(parts, string(x))
		case lua.LNumber:
			parts = append(parts, x.String())
		case lua.LBool:
			parts = append(parts, x.String())
		case *lua.LTable:
			if depth > 64 {
				return errors.New("table nested too deeply")
			}
			depth++
			defer func() { depth-- }()
			for i := 1; i <= x.Len(); i++ {
				if err := add(x.RawGetInt(i)); err != nil {
					return err
				}
			}
		default:
			if v == lua.LNil {
				parts = append(parts, "")
				return nil
			}
			return fmt.Errorf("bad argument type %s", v.Type())
		}
		return nil
	}
	for _, a := range args {
		if err := add(a); err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, 64)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(parts)), 10)
	b = append(b, '\r', '\n')
	for _, p := range parts {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, '\r', '\n')
		b = append(b, p...)
		b = append(b, '\r', '\n')
	}
	return b, nil
}

// readReply reads one reply. A Redis error reply gives (false, msg, nil);
// an I/O or protocol failure gives a non-nil error.
func (c *redisClient) readReply(L *lua.LState) (lua.LValue, string, error) {
	line, err := c.rd.ReadString('\n')
	if err != nil {
		return nil, "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, "", errors.New("bad reply")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return lua.LString(body), "", nil
	case '-':
		return lua.LFalse, body, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, "", errors.New("bad reply")
		}
		return lua.LNumber(n), "", nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, "", errors.New("bad reply")
		}
		if n < 0 {
			return bind.Null(L), "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.rd, buf); err != nil {
			return nil, "", err
		}
		return lua.LString(buf[:n]), "", nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, "", errors.New("bad reply")
		}
		if n < 0 {
			return bind.Null(L), "", nil
		}
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			v, msg, err := c.readReply(L)
			if err != nil {
				return nil, "", err
			}
			if v == lua.LFalse && msg != "" {
				pair := L.CreateTable(2, 0)
				pair.RawSetInt(1, lua.LFalse)
				pair.RawSetInt(2, lua.LString(msg))
				v = pair
			}
			t.RawSetInt(i, v)
		}
		return t, "", nil
	}
	return nil, "", errors.New("bad reply")
}

func (c *redisClient) closeConn() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.rd = nil, nil
		c.owner.Untrack(c)
	}
}

// Open registers the preloaded module "resty.redis" in L; its clients
// keep idle connections in pools, and belong to owner's context when
// they connect (nil: never closed by a context's end), resolving names
// with resolve. phase is ngx.get_phase()'s answer now (nil: no check):
// new() raises ngx_lua's "API disabled in the context of ..." where a
// cosocket cannot be made, as lua-resty-redis's new() calls
// ngx.socket.tcp().
func Open(L *lua.LState, pools *Pools, owner *bind.CosocketOwner, resolve bind.Resolver, phase func() string) {
	mt := L.NewTypeMetatable(restyRedisType)
	check := func(L *lua.LState) *redisClient {
		return bind.CheckUserData[*redisClient](L, 1, "redis object expected (called with '.' instead of ':'?)")
	}
	// mine raises "bad request", as its cosocket would in ngx_lua, for a
	// connected client used outside the context that connected it.
	mine := func(L *lua.LState, c *redisClient) {
		if c.conn != nil && !owner.Owns(c.owner) {
			L.Error(lua.LString("bad request"), 0)
		}
	}
	command := func(name string) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			c := check(L)
			args := make([]lua.LValue, 0, L.GetTop()-1)
			for i := 2; i <= L.GetTop(); i++ {
				args = append(args, L.Get(i))
			}
			req, err := encodeRedisCmd(L, name, args)
			if err != nil {
				return bind.Fail(L, err.Error())
			}
			if c.pipelining {
				c.pipeline = append(c.pipeline, req)
				return 0
			}
			if c.conn == nil {
				return bind.Fail(L, "not initialized")
			}
			mine(L, c)
			c.conn.SetWriteDeadline(time.Now().Add(c.SendTO))
			if _, err := c.conn.Write(req); err != nil {
				c.closeConn()
				return bind.Fail(L, redisErr(err))
			}
			c.conn.SetReadDeadline(time.Now().Add(c.ReadTO))
			v, msg, err := c.readReply(L)
			if err != nil {
				c.closeConn()
				return bind.Fail(L, redisErr(err))
			}
			L.Push(v)
			if msg != "" {
				L.Push(lua.LString(msg))
				return 2
			}
			return 1
		})
	}

	byTimeouts := func(L *lua.LState) *bind.Timeouts { return &check(L).Timeouts }
	methods := L.SetFuncs(L.SetFuncs(L.NewTable(), bind.TimeoutMethods(byTimeouts)), map[string]lua.LGFunction{
		"connect": func(L *lua.LState) int {
			c := check(L)
			host := luavm.CheckString(L, 2)
			opts, _ := L.Get(3).(*lua.LTable)
			network, addr := "tcp", ""
			if strings.HasPrefix(host, "unix:") {
				network, addr = "unix", strings.TrimPrefix(host, "unix:")
				if t, ok := L.Get(3).(*lua.LTable); ok {
					opts = t
				}
			} else {
				port := 6379
				if p, ok := L.Get(3).(lua.LNumber); ok {
					port = int(p)
				}
				// lua-resty-redis connects with ngx.socket.tcp, whose
				// connect Kong has resolve names with the node's DNS client
				ip, port, msg := resolve.Peer(L.Context(), host, port)
				if msg != "" {
					return bind.Fail(L, msg)
				}
				addr = net.JoinHostPort(ip, strconv.Itoa(port))
				opts, _ = L.Get(4).(*lua.LTable)
			}
			useTLS, verify, serverName, pool := false, false, "", ""
			if opts != nil {
				useTLS = lua.LVAsBool(opts.RawGetString("ssl"))
				verify = lua.LVAsBool(opts.RawGetString("ssl_verify"))
				if s, ok := opts.RawGetString("server_name").(lua.LString); ok {
					serverName = string(s)
				}
				if s, ok := opts.RawGetString("pool").(lua.LString); ok {
					pool = string(s)
				}
			}
			if pool == "" {
				pool = addr
			}
			mine(L, c)
			c.closeConn()
			c.pipelining, c.pipeline = false, nil
			c.key = fmt.Sprintf("%s|%t", pool, useTLS)
			// reuse an idle pooled connection when one is left
			pools.lock()
			idle := pools.m[c.key]
			for len(idle) > 0 {
				it := idle[len(idle)-1]
				idle = idle[:len(idle)-1]
				if time.Now().Before(it.until) {
					c.conn, c.rd, c.reused = it.conn, it.rd, it.reused+1
					break
				}
				it.conn.Close()
			}
			pools.m[c.key] = idle
			pools.mu.Unlock()
			if c.conn != nil {
				c.owner = owner.Ticket()
				c.owner.Track(c)
				L.Push(lua.LNumber(1))
				return 1
			}
			d := net.Dialer{Timeout: c.ConnectTO}
			var conn net.Conn
			var err error
			if useTLS {
				cfg := &tls.Config{InsecureSkipVerify: !verify, ServerName: serverName}
				if cfg.ServerName == "" && network == "tcp" {
					cfg.ServerName = host
				}
				conn, err = tls.DialWithDialer(&d, network, addr, cfg)
			} else {
				conn, err = d.Dial(network, addr)
			}
			if err != nil {
				return bind.Fail(L, redisErr(err))
			}
			c.conn, c.rd, c.reused = conn, bufio.NewReader(conn), 0
			c.owner = owner.Ticket()
			c.owner.Track(c)
			L.Push(lua.LNumber(1))
			return 1
		},
		"init_pipeline": func(L *lua.LState) int {
			c := check(L)
			c.pipelining, c.pipeline = true, nil
			return 0
		},
		"cancel_pipeline": func(L *lua.LState) int {
			c := check(L)
			c.pipelining, c.pipeline = false, nil
			return 0
		},
		"commit_pipeline": func(L *lua.LState) int {
			c := check(L)
			if !c.pipelining {
				return bind.Fail(L, "no pipeline")
			}
			reqs := c.pipeline
			c.pipelining, c.pipeline = false, nil
			if len(reqs) == 0 {
				return bind.Fail(L, "no more cmds")
			}
			if c.conn == nil {
				return bind.Fail(L, "not initialized")
			}
			mine(L, c)
			var all []byte
			for _, r := range reqs {
				all = append(all, r...)
			}
			c.conn.SetWriteDeadline(time.Now().Add(c.SendTO))
			if _, err := c.conn.Write(all); err != nil {
				c.closeConn()
				return bind.Fail(L, redisErr(err))
			}
			c.conn.SetReadDeadline(time.Now().Add(c.ReadTO))
			out := L.CreateTable(len(reqs), 0)
			for i := range reqs {
				v, msg, err := c.readReply(L)
				if err != nil {
					c.closeConn()
					return bind.Fail(L, redisErr(err))
				}
				if msg != "" {
					pair := L.CreateTable(2, 0)
					pair.RawSetInt(1, lua.LFalse)
					pair.RawSetInt(2, lua.LString(msg))
					v = pair
				}
				out.RawSetInt(i+1, v)
			}
			L.Push(out)
			return 1
		},
		"get_reused_times": func(L *lua.LState) int {
			c := check(L)
			if c.conn == nil {
				return bind.Fail(L, "not initialized")
			}
			L.Push(lua.LNumber(c.reused))
			return 1
		},
		"set_keepalive": func(L *lua.LState) int {
			c := check(L)
			if c.conn == nil {
				return bind.Fail(L, "not initialized")
			}
			mine(L, c)
			idleMS := L.OptNumber(2, 0)
			size := L.OptInt(3, 30)
			if size <= 0 {
				size = 30
			}
			idle := 60 * time.Second
			if idleMS > 0 {
				idle = time.Duration(idleMS) * time.Millisecond
			}
			if c.rd.Buffered() > 0 || c.pipelining {
				c.closeConn()
				return bind.Fail(L, "unread data in buffer")
			}
			c.conn.SetDeadline(time.Time{})
			pools.lock()
			list := pools.m[c.key]
			if len(list) >= size {
				list[0].conn.Close()
				list = list[1:]
			}
			pools.m[c.key] = append(list, redisIdle{conn: c.conn, rd: c.rd, reused: c.reused, until: time.Now().Add(idle)})
			pools.mu.Unlock()
			c.owner.Untrack(c)
			c.conn, c.rd = nil, nil
			L.Push(lua.LNumber(1))
			return 1
		},
		"close": func(L *lua.LState) int {
			c := check(L)
			if c.conn == nil {
				return bind.Fail(L, "not initialized")
			}
			mine(L, c)
			c.closeConn()
			L.Push(lua.LNumber(1))
			return 1
		},
	})
	// Unknown methods are Redis commands; their functions are cached.
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := luavm.CheckString(L, 2)
		if f := methods.RawGetString(name); f != lua.LNil {
			L.Push(f)
			return 1
		}
		f := command(name)
		methods.RawSetString(name, f)
		L.Push(f)
		return 1
	}))

	L.PreloadModule("resty.redis", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				if phase != nil {
					bind.CheckContext(L, phase(), bind.Yieldable)
				}
				ud := bind.NewUserData(L, &redisClient{Timeouts: bind.DefaultTimeouts()}, mt)
				L.Push(ud)
				return 1
			},
			"add_commands": func(L *lua.LState) int { return 0 },
		})
		mod.RawSetString("_VERSION", lua.LString("0.30"))
		L.Push(mod)
		return 1
	})
}
