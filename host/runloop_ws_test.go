package host

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/internal/wstest"
)

// wsTrace waits until ngx.shared.kong's "ws-trace" (the ws-probe plugin's)
// holds a log entry, then returns and clears it.
func wsTrace(t *testing.T, n *rlNode) string {
	t.Helper()
	d := n.h.Root.SharedDict("kong")
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, _ := d.Get("ws-trace")
		s, _ := v.(string)
		if strings.Contains(s, "log:") {
			d.Delete("ws-trace")
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("ws-trace %q: no log entry", s)
		}
		time.Sleep(2 * time.Millisecond) // polling the observable condition
	}
}

// noTunnels waits until no goroutine runs the proxy's tunnel code.
func noTunnels(t *testing.T) {
	t.Helper()
	buf := make([]byte, 4<<20)
	deadline := time.Now().Add(20 * time.Second)
	for bytes.Contains(buf[:runtime.Stack(buf, true)], []byte("proxy.(*tunnel)")) {
		if time.Now().After(deadline) {
			t.Fatal("tunnel goroutines left")
		}
		time.Sleep(2 * time.Millisecond) // polling the observable condition
	}
}

// A WebSocket through a node running Lua plugins: access runs, ws-buffer's
// response handler does not (an upgrade turns buffering off), header_filter
// sees the 101 and its header reaches the client, body_filter never runs,
// log runs once after the tunnel closed with kong.log.serialize's status
// 101. A plugin's kong.response.exit in access answers the upgrade
// request as any other.
func TestRunloopWebSocket(t *testing.T) {
	c := testConf(t, "testdata/upgrade")
	c.Set("lua_timeout", "20000", "test")
	n := newRLNode(t, c)
	up, err := wstest.NewUpstream(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Close)
	svc := n.insert(t, "services", map[string]any{"protocol": "http", "host": "127.0.0.1",
		"port": float64(up.Port), "read_timeout": float64(600000)})
	n.insert(t, "routes", map[string]any{"paths": []any{"/ws"}, "service": map[string]any{"id": svc["id"]}})
	n.plugin(t, "ws-probe", nil, map[string]any{})
	n.plugin(t, "ws-buffer", nil, map[string]any{})
	n.sync(t)
	addr := strings.TrimPrefix(n.base, "http://")

	ws, err := wstest.Dial(addr, "/ws/chat", nil, "UPGRADE: websocket", "connection: Upgrade")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ws.Status != 101 || len(ws.Header("X-Probe")) != 1 || len(ws.Header("Connection")) != 1 {
		t.Fatalf("handshake: %d %q", ws.Status, ws.Head.Lines)
	}
	if _, p, err := ws.Recv(); err != nil || string(p) != "hello" {
		t.Fatalf("greeting %q %v", p, err)
	}
	for _, msg := range []string{"one", strings.Repeat("x", 70000), "three"} {
		if err := ws.Send(wstest.OpText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, p, err := ws.Recv(); err != nil || string(p) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(p), err)
		}
	}
	if v, _ := n.h.Root.SharedDict("kong").Get("ws-trace"); v != "access header_filter:101" {
		t.Fatalf("before the tunnel closed: %v", v)
	}
	ws.Close()
	if got := wsTrace(t, n); got != "access header_filter:101 log:101:101:number" {
		t.Errorf("trace %s", got)
	}
	noTunnels(t)
	if v, _ := n.h.Root.SharedDict("kong").Get("ws-trace"); v != nil {
		t.Errorf("after the log: %v", v)
	}

	deny, err := wstest.Dial(addr, "/ws", nil, "X-Deny: 1")
	if err != nil {
		t.Fatal(err)
	}
	defer deny.Close()
	if deny.Status != 403 || !strings.Contains(deny.Body, `"message":"denied"`) || len(deny.Header("X-Probe")) != 1 {
		t.Errorf("access exit: %d %q %q", deny.Status, deny.Body, deny.Head.Lines)
	}
	if got := wsTrace(t, n); !strings.HasPrefix(got, "access header_filter:403 body_filter") || !strings.HasSuffix(got, " log:403::number") {
		t.Errorf("access exit trace %s", got)
	}
	if len(up.Requests()) != 1 {
		t.Errorf("upstream handshakes: %d", len(up.Requests()))
	}
}
