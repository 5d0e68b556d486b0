package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/proxy"
)

// testConf enables the example plugins and the admin-notes fixture.
func testConf() *conf.Config {
	c := conf.New()
	c.Set("plugins_dir", "testdata/plugins,../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	c.Set("worker_max", "2", "test")
	return c
}

// node is a host with its Admin API listening on a free port.
type node struct {
	t    testing.TB
	h    *host.Host
	s    *Server
	base string
}

func startAdmin(t testing.TB, h *host.Host) *node {
	t.Helper()
	s, err := New(Options{Host: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return serveAdmin(t, h, s)
}

// serveAdmin serves s on a free port until the test ends.
func serveAdmin(t testing.TB, h *host.Host, s *Server) *node {
	t.Helper()
	ls, err := proxy.ParseListen("admin_listen", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(ls); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		<-done
	})
	return &node{t: t, h: h, s: s, base: "http://" + s.Addrs[0].String()}
}

// eachStore runs body on the memory store and on PostgreSQL.
func eachStore(t *testing.T, body func(t *testing.T, n *node)) {
	hosttest.EachStrategy(t, testConf, func(t *testing.T, h *host.Host) {
		body(t, startAdmin(t, h))
	})
}

type resp struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// do sends a request; body is JSON-encoded unless it is a string (sent as
// given with ctype) or url.Values (form).
func (n *node) do(method, path string, body any, ctype ...string) resp {
	n.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
		ct = "application/json"
	}
	if len(ctype) > 0 && ctype[0] != "" {
		ct = ctype[0]
	}
	req, err := http.NewRequest(method, n.base+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.Body)
	}
	return r
}

// must sends a request and fails unless the status is want.
func (n *node) must(want int, method, path string, body any, ctype ...string) map[string]any {
	n.t.Helper()
	r := n.do(method, path, body, ctype...)
	if r.Status != want {
		n.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r.Body
}

type M = map[string]any

func str(v any) string { s, _ := v.(string); return s }

func data(b map[string]any) []any { d, _ := b["data"].([]any); return d }

// doHeader sends a request without a body and one extra header.
func (n *node) doHeader(method, path, k, v string) resp {
	n.t.Helper()
	req, err := http.NewRequest(method, n.base+path, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set(k, v)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// doNoFatal sends a GET from any goroutine and returns the status (0 on a
// transport error).
func (n *node) doNoFatal(method, path string) int {
	req, err := http.NewRequest(method, n.base+path, nil)
	if err != nil {
		return 0
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// newHost builds a host from c, closed when the test ends.
func newHost(t *testing.T, c *conf.Config) *host.Host {
	t.Helper()
	h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}
