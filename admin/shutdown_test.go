package admin

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/luahost/luahost/proxy"
)

// A Shutdown right after Serve starts stops it, whether or not Serve has
// reached fasthttp's accept loop (it accepted for ever when it had not: a
// node stopped right after it started never exited), and the HTTP/2 side
// of an http2 entry with it.
func TestShutdownRightAfterServe(t *testing.T) {
	c := testConf()
	c.Set("database", "off", "test")
	hst := newHost(t, c)
	for i := 0; i < 200; i++ {
		s, err := New(Options{Host: hst, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := proxy.ParseListen("admin_listen", "127.0.0.1:0, 127.0.0.1:0 http2")
		if err := s.Listen(ls); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve() }()
		for !s.serving.Load() {
			// Serve has built its server (what Shutdown needs to see)
			time.Sleep(time.Microsecond)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Serve did not return after Shutdown", i)
		}
	}
}
