package ngx_test

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/pdktest"
)

// Cosockets belong to the context that connected them (a request, a
// timer): another context using one still open gets ngx_lua's "bad
// request" (a Lua error without position, raised by luaL_error in C);
// the context's end closes what it left open, tcp and udp, after which
// every context reads "closed". The worker's own context tracks nothing.
func TestCosocketOwnedByItsContext(t *testing.T) {
	ended := make(chan struct{}, 4)
	port, _ := tcpServer(t, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
		ended <- struct{}{}
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	uport := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)

	in, _ := pdktest.New(t)
	var a, b bind.Cosockets
	in.SwitchCosockets(&a)
	pdktest.Run(t, in, "a.lua", `
		kept = { t = ngx.socket.tcp(), u = ngx.socket.udp() }
		assert(kept.t:connect("127.0.0.1", `+port+`))
		assert(kept.u:setpeername("127.0.0.1", `+uport+`))`)
	if a.Open() != 2 {
		t.Fatalf("%d sockets tracked, want 2", a.Open())
	}
	in.SwitchCosockets(&b)
	const probe = `
		local out = {}
		for _, f in ipairs({
			function() return kept.t:send("x") end,
			function() return kept.t:receive() end,
			function() return kept.t:setkeepalive() end,
			function() return kept.t:close() end,
			function() return kept.t:sslhandshake() end,
			function() return kept.u:send("x") end,
			function() return kept.u:close() end,
		}) do
			local ok, r1, r2 = pcall(f)
			out[#out + 1] = tostring(ok) .. " " .. tostring(r1) .. " " .. tostring(r2)
		end
		return table.concat(out, "|")`
	if got := pdktest.Str(t, in, probe); got != "false bad request nil|false bad request nil|false bad request nil|"+
		"false bad request nil|true nil bad request|false bad request nil|false bad request nil" {
		t.Fatalf("another context: %q", got)
	}
	in.SwitchCosockets(&a)
	if got := pdktest.Str(t, in, `return kept.t:send("own\n") .. " " .. kept.u:send("own")`); got != "4 1" {
		t.Fatalf("own context: %q", got)
	}
	a.End()
	if a.Open() != 0 {
		t.Fatalf("%d sockets left after End", a.Open())
	}
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not see the connection closed")
	}
	in.SwitchCosockets(&b)
	if got := pdktest.Str(t, in, probe); got != "true nil closed|true nil closed|true nil closed|"+
		"true nil closed|true nil closed|true nil closed|true nil closed" {
		t.Fatalf("after the end: %q", got)
	}
	if got := pdktest.LuaErr(t, in, `kept.t:connect("127.0.0.1", `+port+`)`); got != "bad request" {
		t.Fatalf("connect from another context: %q", got)
	}

	// the worker's own context: nothing tracked, nothing to end
	in.SwitchCosockets(nil)
	pdktest.Run(t, in, "base.lua", `
		local s = ngx.socket.tcp()
		assert(s:connect("127.0.0.1", `+port+`))
		assert(s:send("base\n"))
		kept.base = s`)
	in.SwitchCosockets(&b)
	b.End()
	in.SwitchCosockets(nil)
	if got := pdktest.Str(t, in, `return kept.base:send("still\n")`); got != "6" {
		t.Fatalf("base socket: %q", got)
	}
}
