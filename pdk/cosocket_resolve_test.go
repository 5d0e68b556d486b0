package pdk_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
	"github.com/luahost/luahost/internal/linetest"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/pdktest"
)

// resolvingWorker is a worker whose Root resolves names through a DNS
// client asking srv (hosts: its hosts file); resolved counts the names
// handed to it.
func resolvingWorker(t *testing.T, srv *dnstest.Server, hosts string) (*pdk.Instance, *atomic.Int32) {
	t.Helper()
	dns := srv.Client(t, nil, hosts)
	var resolved atomic.Int32
	root := &pdk.Root{Conf: conf.New(), Logger: slog.New(&pdktest.LogSink{}), WorkerCount: 1,
		Resolve: func(ctx context.Context, name string, port int) (string, int, error) {
			resolved.Add(1)
			return dns.ToIP(ctx, name, port, false)
		}}
	L := luavm.NewState(luavm.Options{})
	t.Cleanup(L.Close)
	return root.Open(L, 0), &resolved
}

// Kong's globalpatches: tcp's connect and udp's setpeername resolve a
// name through the node's DNS client — its nameservers, its hosts file,
// an SRV record's port in place of the one given — and fail with Kong's
// "[cosocket] DNS resolution failed: ..." for a name it cannot resolve.
func TestSocketResolveThroughDNSClient(t *testing.T) {
	port := linetest.Echo(t, "echo ")
	srv := dnstest.Start(t)
	srv.Set("cosocket.test", dnsclient.TypeA, "cosocket.test. 30 IN A 127.0.0.1")
	srv.Set("srv.cosocket.test", dnsclient.TypeSRV, "srv.cosocket.test. 30 IN SRV 10 5 "+port+" cosocket.test.")
	in, resolved := resolvingWorker(t, srv, "127.0.0.1 fromhosts.test\n")
	out := pdktest.Str(t, in, `
		local out = {}
		for _, target in ipairs({ { "cosocket.test", `+port+` }, { "srv.cosocket.test", 1 }, { "fromhosts.test", `+port+` } }) do
			local sock = ngx.socket.tcp()
			sock:settimeout(10000)
			local ok, err = sock:connect(target[1], target[2])
			if not ok then
				out[#out + 1] = target[1] .. ": " .. err
			else
				assert(sock:send(target[1] .. "\n"))
				out[#out + 1] = sock:receive()
				sock:close()
			end
		end
		return table.concat(out, "|")`)
	if out != "echo cosocket.test|echo srv.cosocket.test|echo fromhosts.test" {
		t.Fatalf("got %q", out)
	}
	if n := srv.Queries("cosocket.test", dnsclient.TypeA); n != 1 {
		t.Fatalf("the nameserver was asked %d times for cosocket.test's A record, want 1", n)
	}

	msg := pdktest.Str(t, in, `
		local sock = ngx.socket.tcp()
		local ok, err = sock:connect("unknown.test", 80)
		return tostring(ok) .. " " .. err`)
	const want = "nil [cosocket] DNS resolution failed: dns server error: 3 name error. Tried: ["
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "unknown.test:1") || !strings.HasSuffix(msg, "]") {
		t.Fatalf("unknown name: %q\nwant %q...", msg, want)
	}

	// UDP: setpeername to a name, a datagram sent and echoed
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("echo "), buf[:n]...), addr)
		}
	}()
	uport := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	out = pdktest.Str(t, in, `
		local sock = ngx.socket.udp()
		sock:settimeout(10000)
		assert(sock:setpeername("cosocket.test", `+uport+`))
		assert(sock:send("datagram"))
		local data = assert(sock:receive())
		sock:close()
		local ok, err = ngx.socket.udp():setpeername("unknown.test", 53)
		return data .. "|" .. tostring(ok) .. " " .. err`)
	if !strings.HasPrefix(out, "echo datagram|nil [cosocket] DNS resolution failed: dns server error: 3 name error. Tried: [") {
		t.Fatalf("udp: %q", out)
	}

	// IP literals and unix: paths are not handed to the client
	resolved.Store(0)
	dir := t.TempDir()
	sockPath := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", sockPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("unix hello\n"))
			c.Close()
		}
	}()
	out = pdktest.Str(t, in, `
		local out = {}
		local sock = ngx.socket.tcp()
		sock:settimeout(10000)
		assert(sock:connect("127.0.0.1", `+port+`))
		assert(sock:send("literal\n"))
		out[#out + 1] = sock:receive()
		sock:close()
		sock = ngx.socket.tcp()
		sock:settimeout(10000)
		assert(sock:connect("unix:`+sockPath+`"))
		out[#out + 1] = sock:receive()
		sock:close()
		local u = ngx.socket.udp()
		assert(u:setpeername("127.0.0.1", `+uport+`))
		u:close()
		return table.concat(out, "|")`)
	if out != "echo literal|unix hello" {
		t.Fatalf("literal and unix: %q", out)
	}
	if n := resolved.Load(); n != 0 {
		t.Fatalf("%d IP literals or unix paths were handed to the DNS client", n)
	}
}

// resty.http and resty.redis connect with ngx.socket.tcp in Kong, so a
// name they are given resolves through the node's DNS client too (an SRV
// record's port in place of the URL's; the Host header still the URL's),
// and fails with the same message.
func TestRestyClientsResolveThroughDNSClient(t *testing.T) {
	hostSeen := make(chan string, 4)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hostSeen <- r.Host
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer hs.Close()
	httpPort := strconv.Itoa(hs.Listener.Addr().(*net.TCPAddr).Port)
	redisPort := redisServer(t)
	srv := dnstest.Start(t)
	srv.Set("cosocket.test", dnsclient.TypeA, "cosocket.test. 30 IN A 127.0.0.1")
	srv.Set("srv.cosocket.test", dnsclient.TypeSRV, "srv.cosocket.test. 30 IN SRV 10 5 "+httpPort+" cosocket.test.")
	in, _ := resolvingWorker(t, srv, "")
	out := pdktest.Str(t, in, `
		local http = require "resty.http"
		local out = {}
		for _, uri in ipairs({ "http://cosocket.test:`+httpPort+`/a", "http://srv.cosocket.test:1/b" }) do
			local res, err = http.new():request_uri(uri)
			out[#out + 1] = res and res.body or err
		end
		local red = require("resty.redis"):new()
		assert(red:connect("cosocket.test", `+redisPort+`))
		out[#out + 1] = red:ping()
		red:close()
		return table.concat(out, "|")`)
	if out != "hello /a|hello /b|PONG" {
		t.Fatalf("got %q", out)
	}
	for _, want := range []string{"cosocket.test:" + httpPort, "srv.cosocket.test:1"} {
		if got := <-hostSeen; got != want {
			t.Errorf("Host %q, want %q", got, want)
		}
	}
	out = pdktest.Str(t, in, `
		local res, err = require("resty.http").new():request_uri("http://unknown.test/")
		local ok, rerr = require("resty.redis"):new():connect("unknown.test", 6379)
		return tostring(res) .. " " .. err .. "|" .. tostring(ok) .. " " .. rerr`)
	const want = "nil [cosocket] DNS resolution failed: dns server error: 3 name error. Tried: ["
	parts := strings.Split(out, "|")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], want) || !strings.HasPrefix(parts[1], want) {
		t.Fatalf("unknown name: %q\nwant %q... twice", out, want)
	}
}

// redisServer answers +PONG to each RESP command it reads (a PING's
// lines; the others are not answered).
func redisServer(t *testing.T) string {
	t.Helper()
	port, _ := linetest.Lines(t, func(line string) (string, bool) {
		if strings.EqualFold(strings.TrimSpace(line), "ping") {
			return "+PONG\r\n", true
		}
		return "", true
	})
	return strconv.Itoa(port)
}
