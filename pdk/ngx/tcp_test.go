package ngx_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/internal/linetest"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/pdktest"
)

// tcpServer listens on a local port and runs handle for each connection
// in its own goroutine; it returns the port and the count of accepted
// connections. Everything stops when the test ends.
func tcpServer(t *testing.T, handle func(c net.Conn)) (string, *atomic.Int32) {
	t.Helper()
	port, accepted := linetest.Serve(t, handle)
	return strconv.Itoa(port), accepted
}

// lineServer answers each line it reads with reply(line); a nil reply
// closes the connection.
func lineServer(t *testing.T, reply func(line string) *string) (string, *atomic.Int32) {
	t.Helper()
	port, accepted := linetest.Lines(t, func(line string) (string, bool) {
		r := reply(line)
		if r == nil {
			return "", false
		}
		return *r, true
	})
	return strconv.Itoa(port), accepted
}

func str(s string) *string { return &s }

// connect, send of every accepted type (flattened as ngx_lua does),
// receive by line (CRs dropped), by size and to the close, and ngx_lua's
// "closed" afterwards.
func TestSocketTCPSendReceive(t *testing.T) {
	got := make(chan string, 4)
	port, _ := lineServer(t, func(line string) *string {
		if line == "bye" {
			return nil
		}
		got <- line
		return str("one\r\ntw\ro\nabcdefREST")
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local sock = ngx.socket.tcp()
		local out = {}
		assert(sock:connect("127.0.0.1", `+port+`) == 1)
		local n = assert(sock:send({ "a", 1.5, { "b", true, { false } }, ngx.null, "|" }))
		out[#out + 1] = n
		assert(sock:send(7) == 1)
		assert(sock:send(true) == 4)
		assert(sock:send("\n") == 1)
		out[#out + 1] = sock:receive()
		out[#out + 1] = sock:receive("*l")
		out[#out + 1] = sock:receive(3)
		out[#out + 1] = sock:receive("3")
		out[#out + 1] = sock:receive(0) == "" and "empty" or "?"
		assert(sock:send("bye\n"))
		local rest = sock:receive("*a")
		out[#out + 1] = rest:sub(1, 4)
		local data, err, partial = sock:receive()
		out[#out + 1] = tostring(data) .. " " .. err .. " [" .. tostring(partial) .. "]"
		local _, cerr = sock:close()
		out[#out + 1] = cerr
		_, err = sock:send("x")
		out[#out + 1] = err
		return table.concat(out, "|")`)
	if out != "19|one|two|abc|def|empty|REST|nil closed [nil]|closed|closed" {
		t.Fatalf("got %q", out)
	}
	if line := <-got; line != "a1.5btruefalsenull|7true" {
		t.Fatalf("server read %q", line)
	}
}

// A read cut by the peer's close returns nil, "closed" and what arrived
// (a line without its CRs); the socket is closed then.
func TestSocketTCPPartialOnClose(t *testing.T) {
	port, _ := tcpServer(t, func(c net.Conn) {
		rd := bufio.NewReader(c)
		line, _ := rd.ReadString('\n')
		if line == "size\n" {
			io.WriteString(c, "abc")
		} else {
			io.WriteString(c, "li\rne")
		}
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local out = {}
		for _, case in ipairs({ { "size", 5 }, { "line", "*l" } }) do
			local sock = ngx.socket.tcp()
			assert(sock:connect("127.0.0.1", `+port+`))
			assert(sock:send(case[1] .. "\n"))
			local data, err, partial = sock:receive(case[2])
			out[#out + 1] = tostring(data) .. " " .. err .. " " .. partial
			local _, err2 = sock:receive(1)
			out[#out + 1] = err2
		end
		return table.concat(out, "|")`)
	if out != "nil closed abc|closed|nil closed line|closed" {
		t.Fatalf("got %q", out)
	}
}

// A read timeout returns nil, "timeout", partial and keeps the
// connection (ngx_lua since 0.8.8): the next read gets what comes later.
func TestSocketTCPReadTimeout(t *testing.T) {
	port, _ := tcpServer(t, func(c net.Conn) {
		io.WriteString(c, "par")
		rd := bufio.NewReader(c)
		if line, _ := rd.ReadString('\n'); line == "more\n" {
			io.WriteString(c, "tial\n")
		}
		rd.ReadString('\n') // hold the connection until the client closes
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local sock = ngx.socket.tcp()
		local out = {}
		assert(sock:connect("127.0.0.1", "`+port+`"))
		out[#out + 1] = sock:receive(2)
		sock:settimeout(20)
		local data, err, partial = sock:receive(4)
		out[#out + 1] = tostring(data) .. " " .. err .. " " .. partial
		sock:settimeouts(1000, 1000, 20)
		data, err = sock:receiveany(10)
		out[#out + 1] = tostring(data) .. " " .. err
		sock:settimeout(nil) -- 0: back to the 60 s default
		assert(sock:send("more\n"))
		out[#out + 1] = sock:receive()
		out[#out + 1] = sock:getreusedtimes()
		local ok, e = pcall(sock.receive, sock, 1e12) -- charged to the memory budget first
		out[#out + 1] = tostring(e):match("not enough memory")
		assert(sock:close() == 1)
		return table.concat(out, "|")`)
	if out != "pa|nil timeout r|nil timeout|tial|0|not enough memory" {
		t.Fatalf("got %q", out)
	}
}

// connect's failures: a refused port, a name that does not resolve, a bad
// port; and the argument checks.
func TestSocketTCPConnectErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local out = {}
		local sock = ngx.socket.tcp()
		local ok, err = sock:connect("127.0.0.1", `+port+`)
		out[#out + 1] = tostring(ok) .. " " .. err
		ok, err = sock:connect("127.0.0.1", 70000)
		out[#out + 1] = err
		ok, err = ngx.socket.connect("unix:/nonexistent/sock")
		out[#out + 1] = tostring(ok) .. " " .. err
		return table.concat(out, "|")`)
	want := "nil connection refused|bad port number: 70000|nil no such file or directory"
	if out != want {
		t.Fatalf("got  %q\nwant %q", out, want)
	}
	msg := pdktest.Str(t, in, `return select(2, ngx.socket.tcp():connect("no-such-host.invalid", 80))`)
	if !strings.HasPrefix(msg, "no-such-host.invalid could not be resolved (") {
		t.Fatalf("resolve error %q", msg)
	}
	for src, want := range map[string]string{
		`ngx.socket.tcp():receive("*x")`:                        "bad argument #1 to 'receive' (bad pattern argument)",
		`ngx.socket.tcp():receive("line")`:                      "bad argument #1 to 'receive' (bad pattern argument: line)",
		`ngx.socket.tcp():receive(-1)`:                          "bad pattern argument",
		`ngx.socket.tcp():receiveany(0)`:                        "bad max argument",
		`ngx.socket.tcp():connect("h", 1, { pool = {} })`:       `bad "pool" option type: table`,
		`ngx.socket.tcp():connect("h", 1, { pool_size = 0 })`:   `bad argument #3 to 'connect' (bad "pool_size" option value: 0)`,
		`ngx.socket.tcp():settimeout(-1)`:                       "bad timeout value",
		`ngx.socket.tcp():send()`:                               "expecting 2 arguments (including the object), but got 1",
		`ngx.socket.tcp(1)`:                                     "expecting zero arguments, but got 1",
		`ngx.socket.tcp():receiveuntil("x", { inclusive = 1 })`: `bad "inclusive" option value type: number`,
	} {
		if msg := pdktest.LuaErr(t, in, src); !strings.Contains(msg, want) {
			t.Errorf("%s: %q, want %q", src, msg, want)
		}
	}
	// the data is looked at on a connected socket only: an unconnected
	// one answers nil, "closed" first, as ngx_lua
	if out := pdktest.Str(t, in, `return select(2, ngx.socket.tcp():send(print))`); out != "closed" {
		t.Fatalf("send of bad data on an unconnected socket: %q", out)
	}
	lport, _ := lineServer(t, func(string) *string { return nil })
	for src, want := range map[string]string{
		`{ {}, print }`: "bad data type function found",
		`print`:         "string, number, boolean, nil, or array table expected, got function",
	} {
		code := `local s = ngx.socket.tcp() assert(s:connect("127.0.0.1", ` + lport + `)) s:send(` + src + `)`
		if msg := pdktest.LuaErr(t, in, code); !strings.Contains(msg, want) {
			t.Errorf("send(%s): %q, want %q", src, msg, want)
		}
	}
	if out := pdktest.Str(t, in, `return select(2, ngx.socket.tcp():receiveuntil(""))`); out != "pattern is empty" {
		t.Fatalf("empty pattern: %q", out)
	}
	if out := pdktest.Str(t, in, `return ngx.socket.stream == ngx.socket.tcp`); out != "true" {
		t.Fatal("ngx.socket.stream is not ngx.socket.tcp")
	}
}

// receiveuntil, lua-nginx-module's documented example: the data before
// the pattern; with a size, chunks then one nil; inclusive; a pattern
// that overlaps itself; the peer's close before the pattern.
func TestSocketTCPReceiveUntil(t *testing.T) {
	port, _ := tcpServer(t, func(c net.Conn) {
		rd := bufio.NewReader(c)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			switch line {
			case "doc\n":
				// byte by byte: the pattern arrives in pieces
				for _, b := range []byte("hello, world! -agentzh\r\n--abcedhb blah blah\n") {
					c.Write([]byte{b})
				}
			case "overlap\n":
				io.WriteString(c, "xaaab-y--abc;")
			case "end\n":
				io.WriteString(c, "no pattern here")
				return
			}
		}
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local sock = ngx.socket.tcp()
		local out = {}
		assert(sock:connect("127.0.0.1", `+port+`))
		local pat = "\r\n--abcedhb"
		local whole = sock:receiveuntil(pat)
		local chunks = sock:receiveuntil(pat)
		local incl = sock:receiveuntil(pat, { inclusive = true })

		assert(sock:send("doc\n"))
		out[#out + 1] = whole()
		out[#out + 1] = sock:receive()
		assert(sock:send("doc\n"))
		local c = {}
		while true do
			local data, err = chunks(4)
			if not data then
				c[#c + 1] = "done:" .. tostring(err)
				break
			end
			c[#c + 1] = "[" .. data .. "]"
		end
		out[#out + 1] = table.concat(c)
		out[#out + 1] = sock:receive()
		assert(sock:send("doc\n"))
		out[#out + 1] = (incl():gsub("\r\n", "CRLF"))
		out[#out + 1] = sock:receive()

		assert(sock:send("overlap\n"))
		out[#out + 1] = sock:receiveuntil("aab")()
		out[#out + 1] = sock:receiveuntil("--abc")()
		out[#out + 1] = sock:receiveuntil(";")()

		assert(sock:send("end\n"))
		local data, err, partial = sock:receiveuntil("--")(5)
		out[#out + 1] = tostring(data)
		data, err, partial = sock:receiveuntil("--")()
		out[#out + 1] = tostring(data) .. " " .. err .. " " .. partial
		return table.concat(out, "|")`)
	want := "hello, world! -agentzh| blah blah|[hell][o, w][orld][! -a][gent][zh]done:nil| blah blah|" +
		"hello, world! -agentzhCRLF--abcedhb| blah blah|xa|-y|" + "|no pa|nil closed ttern here"
	if out != want {
		t.Fatalf("got  %q\nwant %q", out, want)
	}
}

// A pattern whose beginning arrived before its end, with the reader
// between the two: the held-back bytes are the pattern's, not data. A
// sized reader meeting the pattern right after a full chunk gives "" then
// nil.
func TestSocketTCPReceiveUntilSplit(t *testing.T) {
	port, _ := tcpServer(t, func(c net.Conn) {
		io.WriteString(c, "abc\r\n--ab")
		rd := bufio.NewReader(c)
		if line, _ := rd.ReadString('\n'); line == "go\n" {
			io.WriteString(c, "cedhb rest")
		}
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local sock = ngx.socket.tcp()
		assert(sock:connect("127.0.0.1", `+port+`))
		local reader = sock:receiveuntil("\r\n--abcedhb")
		local out = {}
		out[#out + 1] = reader(3)
		assert(sock:send("go\n"))
		local data, err = reader(3)
		out[#out + 1] = "[" .. tostring(data) .. "]"
		data, err = reader(3)
		out[#out + 1] = tostring(data) .. " " .. tostring(err)
		out[#out + 1] = sock:receive("*a")
		return table.concat(out, "|")`)
	if out != "abc|[]|nil nil| rest" {
		t.Fatalf("got %q", out)
	}
}

// setkeepalive puts the connection in its pool: the next connect to the
// same host:port takes it (getreusedtimes counts), a named pool is
// another pool, unread data refuses.
func TestSocketTCPKeepalive(t *testing.T) {
	port, accepted := lineServer(t, func(line string) *string {
		if line == "two" {
			return str("1\n2\n")
		}
		return str("echo " + line + "\n")
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local out = {}
		local function round(opts)
			local sock = ngx.socket.tcp()
			assert(sock:connect("127.0.0.1", `+port+`, opts))
			local times = sock:getreusedtimes()
			assert(sock:send("hi\n"))
			assert(sock:receive() == "echo hi")
			assert(sock:setkeepalive(10000, 5) == 1)
			local _, err = sock:send("x")
			return times .. ":" .. err
		end
		out[#out + 1] = round()
		out[#out + 1] = round()
		out[#out + 1] = round()
		out[#out + 1] = round({ pool = "other" })
		out[#out + 1] = round({ pool = "other" })
		local sock = ngx.socket.tcp()
		assert(sock:connect("127.0.0.1", `+port+`))
		assert(sock:send("two\n"))
		assert(sock:receive() == "1")
		local ok, err = sock:setkeepalive()
		out[#out + 1] = tostring(ok) .. " " .. err
		return table.concat(out, "|")`)
	if out != "0:closed|1:closed|2:closed|0:closed|1:closed|nil unread data in buffer" {
		t.Fatalf("got %q", out)
	}
	if n := accepted.Load(); n != 2 {
		t.Fatalf("%d connections accepted, want 2", n)
	}
}

// connect's pool_size and backlog: past the size, no backlog refuses and
// a backlog waits for a release, at most the connect timeout.
func TestSocketTCPBacklog(t *testing.T) {
	port, _ := lineServer(t, func(string) *string { return nil })
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local out = {}
		local opts = { pool = "b", pool_size = 1, backlog = 0 }
		local a = ngx.socket.tcp()
		assert(a:connect("127.0.0.1", `+port+`, opts))
		local b = ngx.socket.tcp()
		local ok, err = b:connect("127.0.0.1", `+port+`, opts)
		out[#out + 1] = tostring(ok) .. " " .. err
		opts.backlog = 1
		b:settimeout(20)
		ok, err = b:connect("127.0.0.1", `+port+`, opts)
		out[#out + 1] = tostring(ok) .. " " .. err
		a:close()
		out[#out + 1] = b:connect("127.0.0.1", `+port+`, opts)
		return table.concat(out, "|")`)
	if out != "nil too many waiting connect operations|nil timeout|1" {
		t.Fatalf("got %q", out)
	}
}

// The worker's deadline (its state's context) ends a blocking read at
// once, whatever the socket's own timeout. receive is called from Go, so
// that no Lua instruction notices the cancellation first.
func TestSocketTCPWorkerDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port, _ := tcpServer(t, func(c net.Conn) {
		rd := bufio.NewReader(c)
		if line, _ := rd.ReadString('\n'); line == "go\n" {
			cancel()
		}
		rd.ReadString('\n')
	})
	in, _ := pdktest.New(t)
	sock := pdktest.Run(t, in, "test.lua", `
		local sock = ngx.socket.tcp()
		sock:settimeout(3600 * 1000)
		assert(sock:connect("127.0.0.1", `+port+`))
		assert(sock:send("go\n"))
		return sock`)[0]
	L := in.L
	luavm.SetContext(L, ctx)
	recv := L.GetField(L.GetMetaField(sock, "__index"), "receive")
	if err := L.CallByParam(lua.P{Fn: recv, NRet: 2, Protect: true}, sock); err != nil {
		t.Fatal(err)
	}
	if data, msg := L.Get(-2), L.Get(-1); data != lua.LNil || msg.String() != "timeout" {
		t.Fatalf("receive gave %v, %v", data, msg)
	}
}

// A send the peer does not read stops at the send timeout, and closes the
// socket (ngx_lua finalizes it); setoption sets the buffers it shrinks.
func TestSocketTCPSendTimeout(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	port, _ := tcpServer(t, func(c net.Conn) {
		c.(*net.TCPConn).SetReadBuffer(4096)
		<-hold
	})
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local sock = ngx.socket.tcp()
		assert(sock:connect("127.0.0.1", `+port+`))
		assert(sock:setoption("sndbuf", 4096) == true)
		assert(sock:setoption("tcp-nodelay", true) == true)
		assert(sock:setoption("keepalive", false) == true)
		sock:settimeouts(10000, 30, 10000)
		local ok, err = sock:send(string.rep("x", 8 * 1024 * 1024))
		local _, err2 = sock:send("y")
		return tostring(ok) .. " " .. err .. " " .. err2`)
	if out != "nil timeout closed" {
		t.Fatalf("got %q", out)
	}
}

// A send of a table that holds itself raises "table nested too deeply"
// (ngx.say's error) on a connected tcp or udp socket, instead of recursing
// in Go until the process dies, and one of an array shared 2^40 ways the
// memory budget's "not enough memory" instead of exhausting memory; an unconnected one answers nil, "closed"
// before looking at the data, as ngx_lua.
func TestSocketSendCyclicTable(t *testing.T) {
	port, _ := lineServer(t, func(string) *string { return nil })
	in, _ := pdktest.New(t, "lua_memory_budget", "8m")
	out := pdktest.Str(t, in, `
		local arr = { "x" }
		arr[2] = arr
		local dag = { "x" }
		for _ = 1, 40 do dag = { dag, dag } end
		local res = {}
		local function try(sock, data)
			local ok, a, b = pcall(sock.send, sock, data or arr)
			res[#res + 1] = tostring(ok) .. ":" .. (ok and tostring(a) .. "," .. tostring(b) or tostring(a):gsub("^.-: ", ""))
		end
		try(ngx.socket.tcp())
		local tcp = ngx.socket.tcp()
		assert(tcp:connect("127.0.0.1", `+port+`))
		try(tcp)
		try(tcp, dag)
		local udp = ngx.socket.udp()
		assert(udp:setpeername("127.0.0.1", `+port+`))
		try(udp)
		try(udp, dag)
		return table.concat(res, "|")`)
	const want = "true:nil,closed|false:table nested too deeply|false:not enough memory|" +
		"false:table nested too deeply|false:not enough memory"
	if out != want {
		t.Fatalf("got  %q\nwant %q", out, want)
	}
}
