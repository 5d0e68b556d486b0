package main

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/internal/wstest"
)

// An open WebSocket does not hold `luahost run` past SIGTERM: the tunnel
// is closed once the in-flight requests are done, and the node stops
// cleanly (exit 0, not "requests still running").
func TestRunStopsWithOpenWebSocket(t *testing.T) {
	c := conf.New()
	c.Append("plugins_dir", "../../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	c.Set("log_level", "error", "test")
	c.Set("proxy_listen", "127.0.0.1:0", "test")
	c.Set("admin_listen", "off", "test")
	up, err := wstest.NewUpstream(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	n, code, stderr := started.node, started.code, started.stderr
	ctx := context.Background()
	svc, err := n.Host.Root.DB.DAO("services").Insert(ctx, map[string]any{
		"protocol": "http", "host": "127.0.0.1", "port": float64(up.Port), "read_timeout": float64(600000)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Host.Root.DB.DAO("routes").Insert(ctx, map[string]any{
		"paths": []any{"/ws"}, "service": map[string]any{"id": svc["id"]}}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r, _ := n.Router.Load(); r != nil && r.Len() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("route never built")
		}
		time.Sleep(5 * time.Millisecond) // polling the observable condition
	}
	ws, err := wstest.Dial(n.Server.Addrs[0].String(), "/ws", nil)
	if err != nil || ws.Status != 101 {
		t.Fatalf("handshake: %v %+v", err, ws)
	}
	defer ws.Close()
	if _, p, err := ws.Recv(); err != nil || string(p) != "hello" {
		t.Fatalf("greeting %q %v", p, err)
	}

	sigs <- syscall.SIGTERM
	select {
	case got := <-code:
		if got != 0 || !strings.Contains(stderr.String(), "luahost: stopped\n") {
			t.Errorf("exit %d: %s", got, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("run did not return: %s", stderr.String())
	}
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, _, err = ws.Recv()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("the tunnel outlived the node: %v", err)
	}
}
