package ngx_test

import (
	"net"
	"strconv"
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

// refusedContexts are the contexts (ngx.get_phase()'s names) where
// lua-nginx-module cannot yield, with its names of them: a cosocket made
// there raises.
var refusedContexts = map[string]string{
	"log": "log_by_lua*", "header_filter": "header_filter_by_lua*", "body_filter": "body_filter_by_lua*",
	"init_worker": "init_worker_by_lua*", "balancer": "balancer_by_lua*",
}

// udpEcho answers each datagram with "echo:" and the datagram.
func udpEcho(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("echo:"), buf[:n]...), addr)
		}
	}()
	return strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
}

// Every way to a cosocket raises ngx_lua's "API disabled in the context
// of ..." in header_filter, body_filter, log, init_worker and balancer:
// making one (tcp, its alias stream, udp, connect), and connecting or
// setting the peer of one made where it could be (ngx_lua checks at
// connect too). In the yieldable contexts the same calls talk to a peer.
func TestSocketContexts(t *testing.T) {
	port, _ := lineServer(t, func(line string) *string { return str("pong:" + line + "\n") })
	uport := udpEcho(t)
	in, _ := pdktest.New(t)
	in.Phase = "timer"
	pdktest.Run(t, in, "premade.lua", `premade_tcp, premade_udp = ngx.socket.tcp(), ngx.socket.udp()`)
	calls := map[string]string{
		"tcp":          `ngx.socket.tcp()`,
		"stream":       `ngx.socket.stream()`,
		"udp":          `ngx.socket.udp()`,
		"connect":      `ngx.socket.connect("127.0.0.1", ` + port + `)`,
		"sock:connect": `premade_tcp:connect("127.0.0.1", ` + port + `)`,
		"setpeername":  `premade_udp:setpeername("127.0.0.1", ` + uport + `)`,
	}
	for phase, name := range refusedContexts {
		in.Phase = phase
		for what, src := range calls {
			want := "test.lua:1: API disabled in the context of " + name
			if got := pdktest.LuaErr(t, in, src); got != want {
				t.Errorf("%s in %s: %q, want %q", what, phase, got, want)
			}
		}
	}
	for _, phase := range []string{"rewrite", "access", "content", "timer", "ssl_cert"} {
		in.Phase = phase
		got := pdktest.Str(t, in, `
			local out = {}
			for _, make in ipairs({ ngx.socket.tcp, ngx.socket.stream }) do
				local sock = make()
				assert(sock:connect("127.0.0.1", `+port+`))
				assert(sock:send("`+phase+`\n"))
				out[#out + 1] = sock:receive()
				sock:close()
			end
			local sock = assert(ngx.socket.connect("127.0.0.1", `+port+`))
			assert(sock:send("connect\n"))
			out[#out + 1] = sock:receive()
			sock:close()
			local u = ngx.socket.udp()
			assert(u:setpeername("127.0.0.1", `+uport+`))
			assert(u:send("udp"))
			out[#out + 1] = u:receive()
			u:close()
			return table.concat(out, "|")`)
		if want := "pong:" + phase + "|pong:" + phase + "|pong:connect|echo:udp"; got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
	}
}

// A semaphore's wait answers nil and ngx_lua's message outside the
// yieldable contexts, even with a resource free (the context is checked
// first), and takes the resource in one.
func TestSemaphoreWaitContexts(t *testing.T) {
	in, _ := pdktest.New(t)
	const src = `
		local sema = require("ngx.semaphore").new(1)
		local ok, err = sema:wait(0)
		return tostring(ok) .. " " .. tostring(err) .. " " .. sema:count()`
	for phase, name := range refusedContexts {
		in.Phase = phase
		if got, want := pdktest.Str(t, in, src), "nil API disabled in the context of "+name+" 1"; got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
	}
	for _, phase := range []string{"access", "timer"} {
		in.Phase = phase
		if got := pdktest.Str(t, in, src); got != "true nil 0" {
			t.Errorf("%s: %q", phase, got)
		}
	}
}
