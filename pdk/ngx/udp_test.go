package ngx_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/pdktest"
)

// ngx.socket.udp: setpeername, send (strings, numbers, nested arrays),
// receive with settimeout, close; ngx_lua's returns and messages.
func TestSocketUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	echoed := make(chan string, 4)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			echoed <- string(buf[:n])
			if string(buf[:n]) != "no reply" {
				_, _ = pc.WriteTo(append([]byte("echo:"), buf[:n]...), addr)
			}
		}
	}()
	in, _ := pdktest.New(t)
	got := pdktest.Str(t, in, `
		local sock = ngx.socket.udp()
		local out = {}
		local ok, err = sock:send("x")
		out[#out + 1] = tostring(ok) .. " " .. err
		assert(sock:setpeername("127.0.0.1", `+port+`) == 1)
		sock:settimeout(5000)
		assert(sock:send({ "a", 1, { "b" } }) == 1)
		out[#out + 1] = sock:receive()
		assert(sock:send({ true, ngx.null, { false } }) == 1)
		out[#out + 1] = sock:receive()
		assert(sock:send("no reply") == 1)
		sock:settimeout(30)
		local data, rerr = sock:receive()
		out[#out + 1] = tostring(data) .. " " .. rerr
		out[#out + 1] = tostring(sock:close())
		local _, cerr = sock:close()
		out[#out + 1] = cerr
		return table.concat(out, "|")`)
	if got != "nil closed|echo:a1b|echo:truenullfalse|nil timeout|1|closed" {
		t.Fatalf("got %q", got)
	}
	for _, want := range []string{"a1b", "truenullfalse", "no reply"} {
		select {
		case m := <-echoed:
			if m != want {
				t.Fatalf("server got %q, want %q", m, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("nothing received")
		}
	}
	if msg := pdktest.Str(t, in, `local _, err = ngx.socket.udp():setpeername("no-such-host.invalid", 53) return err`); !strings.Contains(msg, "could not be resolved") {
		t.Fatalf("resolve error %q", msg)
	}
	// ngx_lua's order: a closed socket answers before the data is looked at
	if msg := pdktest.Str(t, in, `local ok, err = ngx.socket.udp():send(print) return tostring(ok) .. " " .. err`); msg != "nil closed" {
		t.Fatalf("send on an unconnected socket: %q", msg)
	}
	if msg := pdktest.LuaErr(t, in, `local s = ngx.socket.udp() assert(s:setpeername("127.0.0.1", `+port+`)) s:send(print)`); !strings.Contains(msg, "string, number, boolean, nil, or array table expected, got function") {
		t.Fatalf("send(print): %q", msg)
	}
}
