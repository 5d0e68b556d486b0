package admin

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/luahost/luahost/proxy"
)

// Server.Handle: extra routes (POST /config for the declarative config)
// get the Admin API's pipeline and may take YAML bodies.
func TestHandleExtraRoute(t *testing.T) {
	c := testConf()
	c.Set("database", "off", "test")
	hst := newHost(t, c)
	s, err := New(Options{Host: hst, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	s.Handle("POST", "/config", func(r *Request) {
		got = r.ContentType + "|" + string(r.RawBody())
		r.JSON(201, map[string]any{"ok": true})
	})
	ls, _ := proxy.ParseListen("admin_listen", "127.0.0.1:0")
	if err := s.Listen(ls); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	defer func() { s.Shutdown(context.Background()); <-done }()
	n := &node{t: t, h: hst, s: s, base: "http://" + s.Addrs[0].String()}
	n.must(201, "POST", "/config", "_format_version: \"3.0\"\n", "application/yaml")
	if got != "application/yaml|_format_version: \"3.0\"\n" {
		t.Fatalf("handler saw %q", got)
	}
	n.must(415, "POST", "/config", "x", "text/plain")
	n.must(405, "GET", "/config", nil)
	// a generated route keeps refusing YAML
	n.must(415, "POST", "/consumers", "username: x", "application/yaml")
	defer func() {
		if recover() == nil {
			t.Fatal("Handle after Serve did not panic")
		}
	}()
	s.Handle("GET", "/late", func(r *Request) {})
}
