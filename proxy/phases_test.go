package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/luahost/luahost/router"
)

// recorder is a Phases that records the calls and can answer in access.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	logged chan struct{} // told of each Log, when set
}

func (r *recorder) add(c *Context, phase string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, phase+":"+string(c.OriginalURI))
}

func (r *recorder) Rewrite(c *Context) bool { r.add(c, "rewrite"); return false }

func (r *recorder) Access(c *Context) bool {
	r.add(c, "access")
	if strings.HasPrefix(string(c.OriginalURI), "/deny") {
		c.RequestCtx.Response.SetStatusCode(401)
		c.RequestCtx.Response.SetBodyString(`{"message":"Unauthorized"}`)
		return true
	}
	return false
}

func (r *recorder) HeaderFilter(c *Context) {
	r.add(c, "header_filter")
	c.RequestCtx.Response.Header.Set("X-Phase", "seen")
}
func (r *recorder) Response(c *Context)   { r.add(c, "response") }
func (r *recorder) BodyFilter(c *Context) { r.add(c, "body_filter") }
func (r *recorder) Log(c *Context) {
	r.add(c, "log")
	if r.logged != nil {
		r.logged <- struct{}{}
	}
}

// take returns the calls so far, once Log has run if the recorder is told
// of it (Log runs after the client has the response).
func (r *recorder) take() string {
	if r.logged != nil {
		<-r.logged
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.calls, " ")
	r.calls = nil
	return s
}

func TestPhasesOrderAndExit(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	rec := &recorder{logged: make(chan struct{}, 1)}
	tp.p.Phases = rec

	res, body := do(t, "GET", "http://"+tp.addr+"/ok", nil, "")
	if res.StatusCode != 200 || body != "GET /ok " || res.Header.Get("X-Phase") != "seen" {
		t.Errorf("%d %q %v", res.StatusCode, body, res.Header)
	}
	if got := rec.take(); got != "rewrite:/ok access:/ok response:/ok header_filter:/ok body_filter:/ok log:/ok" {
		t.Errorf("calls: %s", got)
	}
	u.mu.Lock()
	n := len(u.got)
	u.mu.Unlock()
	res, body = do(t, "GET", "http://"+tp.addr+"/deny", nil, "")
	if res.StatusCode != 401 || body != `{"message":"Unauthorized"}` || res.Header.Get("Server") != "kong/3.9.1" ||
		res.Header.Get("X-Kong-Response-Latency") == "" {
		t.Errorf("exit in access: %d %q %v", res.StatusCode, body, res.Header)
	}
	if got := rec.take(); got != "rewrite:/deny access:/deny header_filter:/deny body_filter:/deny log:/deny" {
		t.Errorf("calls: %s", got)
	}
	u.mu.Lock()
	if len(u.got) != n {
		t.Errorf("the upstream was called after an exit in access")
	}
	u.mu.Unlock()
	// No route: access does not run; the filters and log do.
	tp.rt.Rebuild(nil, nil)
	res, _ = do(t, "GET", "http://"+tp.addr+"/x", nil, "")
	if res.StatusCode != 404 {
		t.Fatal(res.StatusCode)
	}
	if got := rec.take(); got != "rewrite:/x header_filter:/x body_filter:/x log:/x" {
		t.Errorf("calls: %s", got)
	}
}

func TestProxyHEADAndNoHost(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	req, _ := http.NewRequest("HEAD", "http://"+tp.addr+"/h", nil)
	res, err := client.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", res, err)
	}
	res.Body.Close()
	res2, body := raw(t, tp.addr, "GET /noh HTTP/1.0\r\n\r\n")
	if res2.StatusCode != 200 || body != "GET /noh " {
		t.Fatalf("HTTP/1.0 without Host: %d %q", res2.StatusCode, body)
	}
	r := u.last(t)
	if r.Header.Get("X-Forwarded-Host") != "kong" || r.Header.Get("Via") != "1 kong/3.9.1" {
		t.Errorf("no Host: X-Forwarded-Host %q Via %q", r.Header.Get("X-Forwarded-Host"), r.Header.Get("Via"))
	}
}

func TestUpstreamGetsHTTP11(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	res, _ := raw(t, tp.addr, "GET /v HTTP/1.0\r\nHost: a\r\n\r\n")
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, res.Proto)
	}
	if r := u.last(t); r.Proto != "HTTP/1.1" {
		t.Errorf("upstream got %s", r.Proto)
	}
}
