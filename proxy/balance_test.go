package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/router"
)

const upID = "00000000-0000-0000-0000-0000000000a1"

func upstreamRow(extra map[string]any) map[string]any {
	r := map[string]any{"id": upID, "name": "my-upstream", "algorithm": "round-robin", "hash_on": "none",
		"hash_fallback": "none", "slots": float64(10000)}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func targetRow(port, weight int) map[string]any {
	return map[string]any{"id": fmt.Sprintf("t-%d", port), "target": fmt.Sprintf("127.0.0.1:%d", port),
		"weight": float64(weight), "upstream": map[string]any{"id": upID}, "created_at": float64(1)}
}

// deadPort is a port nothing listens on.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// triesLog records each request's Tries in its Log phase.
type triesLog struct {
	NopPhases
	ch chan []Try
}

func (l *triesLog) Log(c *Context) {
	l.ch <- append([]Try(nil), c.Tries...)
}

// startBalanced starts a proxy whose Service host names "my-upstream",
// balanced over targets.
func startBalanced(t *testing.T, up map[string]any, targets ...map[string]any) (*testProxy, *balancer.Registry, *triesLog) {
	t.Helper()
	reg := &balancer.Registry{}
	t.Cleanup(reg.Close)
	reg.Rebuild(context.Background(), []map[string]any{up}, targets)
	s := svc("s1", 80)
	s.Host = "my-upstream"
	s.Retries = 2
	tp := startProxy(t, Config{Balancer: reg}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"~/users/(?<user>\\d+)"}, ServiceID: "s1"},
	}, s)
	lg := &triesLog{ch: make(chan []Try, 100)}
	tp.p.Phases = lg
	return tp, reg, lg
}

func count(u *upstream) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

func TestBalancerRoundRobin(t *testing.T) {
	a, b, c := newUpstream(t), newUpstream(t), newUpstream(t)
	tp, _, lg := startBalanced(t, upstreamRow(nil), targetRow(a.port, 10), targetRow(b.port, 10), targetRow(c.port, 20),
		targetRow(deadPort(t), 0))
	for i := 0; i < 40; i++ {
		res, body := do(t, "GET", "http://"+tp.addr+"/x", nil, "")
		if res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		if tries := <-lg.ch; len(tries) != 1 || tries[0].State != "" {
			t.Fatalf("tries %+v", tries)
		}
	}
	// ten turns of a wheel of 4 slots: exact shares, the weight-0 target never
	if count(a) != 10 || count(b) != 10 || count(c) != 20 {
		t.Fatalf("requests per target %d %d %d, want 10 10 20", count(a), count(b), count(c))
	}
	// the Host sent is the target's address (an IP target, no host_header)
	if h := a.last(t).Host; h != fmt.Sprintf("127.0.0.1:%d", a.port) {
		t.Fatalf("Host %q", h)
	}
}

func TestBalancerHostHeader(t *testing.T) {
	a := newUpstream(t)
	tp, _, lg := startBalanced(t, upstreamRow(map[string]any{"host_header": "front.test"}), targetRow(a.port, 100))
	do(t, "GET", "http://"+tp.addr+"/x", nil, "")
	<-lg.ch
	if h := a.last(t).Host; h != fmt.Sprintf("front.test:%d", a.port) {
		t.Fatalf("Host %q, want the upstream's host_header", h)
	}
}

func TestBalancerRetriesNextTarget(t *testing.T) {
	a := newUpstream(t)
	dead := deadPort(t)
	tp, _, lg := startBalanced(t, upstreamRow(nil), targetRow(a.port, 100), targetRow(dead, 100))
	retried := 0
	for i := 0; i < 6; i++ {
		res, body := do(t, "POST", "http://"+tp.addr+"/x", nil, "payload")
		if res.StatusCode != 200 || !strings.HasSuffix(body, "payload") {
			t.Fatalf("%d %q", res.StatusCode, body)
		}
		tries := <-lg.ch
		if len(tries) == 2 {
			retried++
			if tries[0].Port != dead || tries[0].State != "failed" || tries[0].Code != 502 || tries[1].Port != a.port {
				t.Fatalf("tries %+v", tries)
			}
			// the Host of the target reached, not the failed one's
			if h := a.last(t).Host; h != fmt.Sprintf("127.0.0.1:%d", a.port) {
				t.Fatalf("Host %q after a retry", h)
			}
		}
	}
	// a retry moves the wheel's pointer too (Kong's): after one, the
	// next request starts on the dead target again
	if retried < 5 || count(a) != 6 {
		t.Fatalf("%d of 6 retried, %d reached the live target", retried, count(a))
	}
}

func TestBalancerPassiveHealth(t *testing.T) {
	a := newUpstream(t)
	dead := deadPort(t)
	hc := map[string]any{"passive": map[string]any{"unhealthy": map[string]any{"tcp_failures": float64(1)}}}
	tp, reg, lg := startBalanced(t, upstreamRow(map[string]any{"healthchecks": hc}), targetRow(a.port, 100), targetRow(dead, 100))
	for i := 0; i < 2; i++ { // one of the first two goes to the dead target, and marks it
		do(t, "GET", "http://"+tp.addr+"/x", nil, "")
		<-lg.ch
	}
	st, _ := reg.Balancer("my-upstream").TargetHealth(fmt.Sprintf("127.0.0.1:%d", dead))
	if st != "UNHEALTHY" {
		t.Fatalf("dead target %s", st)
	}
	for i := 0; i < 6; i++ {
		res, _ := do(t, "GET", "http://"+tp.addr+"/x", nil, "")
		if tries := <-lg.ch; res.StatusCode != 200 || len(tries) != 1 || tries[0].Port != a.port {
			t.Fatalf("%d tries %+v: the unhealthy target was tried", res.StatusCode, tries)
		}
	}
}

func TestBalancerNoHealthyTarget(t *testing.T) {
	tp, _, lg := startBalanced(t, upstreamRow(nil))
	res, body := do(t, "GET", "http://"+tp.addr+"/x", map[string]string{"Accept": "application/json"}, "")
	<-lg.ch
	if res.StatusCode != 503 || !strings.Contains(body, `"message":"failure to get a peer from the ring-balancer"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	// every target down: the same
	a := newUpstream(t)
	hc := map[string]any{"passive": map[string]any{"unhealthy": map[string]any{"tcp_failures": float64(1)}}}
	tp, reg, lg := startBalanced(t, upstreamRow(map[string]any{"healthchecks": hc}), targetRow(a.port, 100))
	if err := reg.PostHealth(upID, "127.0.0.1", "", a.port, false); err != nil {
		t.Fatal(err)
	}
	res, body = do(t, "GET", "http://"+tp.addr+"/x", nil, "")
	<-lg.ch
	if res.StatusCode != 503 || count(a) != 0 {
		t.Fatalf("%d %s (%d reached the target)", res.StatusCode, body, count(a))
	}
}

func TestBalancerConsistentHashing(t *testing.T) {
	a, b := newUpstream(t), newUpstream(t)
	up := upstreamRow(map[string]any{"algorithm": "consistent-hashing", "hash_on": "header", "hash_on_header": "X-User",
		"hash_fallback": "uri_capture", "hash_fallback_uri_capture": "user"})
	tp, _, lg := startBalanced(t, up, targetRow(a.port, 100), targetRow(b.port, 100))
	seen := map[string]int{}
	for i := 0; i < 32; i++ {
		user := fmt.Sprint("u", i%16)
		do(t, "GET", "http://"+tp.addr+"/x", map[string]string{"X-User": user}, "")
		port := (<-lg.ch)[0].Port
		if p, ok := seen[user]; ok && p != port {
			t.Fatalf("%s went to %d then %d", user, p, port)
		}
		seen[user] = port
		// the fallback: the same user in the path, no header
		do(t, "GET", "http://"+tp.addr+"/users/"+fmt.Sprint(i%16), nil, "")
		if p2 := (<-lg.ch)[0].Port; i < 16 {
			seen["path"+user] = p2
		} else if seen["path"+user] != p2 {
			t.Fatalf("/users/%d went to %d then %d", i%16, seen["path"+user], p2)
		}
	}
	ports := map[bool]map[int]bool{false: {}, true: {}}
	for k, p := range seen {
		ports[strings.HasPrefix(k, "path")][p] = true
	}
	if len(ports[false]) != 2 || len(ports[true]) != 2 {
		t.Fatalf("16 users all on one target: %v", ports)
	}
}

func TestBalancerHashCookie(t *testing.T) {
	a, b := newUpstream(t), newUpstream(t)
	up := upstreamRow(map[string]any{"algorithm": "consistent-hashing", "hash_on": "cookie", "hash_on_cookie": "sticky",
		"hash_on_cookie_path": "/app"})
	tp, _, lg := startBalanced(t, up, targetRow(a.port, 100), targetRow(b.port, 100))
	res, _ := do(t, "GET", "http://"+tp.addr+"/x", nil, "")
	first := (<-lg.ch)[0].Port
	ck := res.Header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "sticky=") || !strings.HasSuffix(ck, "; Path=/app; Same-Site=Lax; HttpOnly") {
		t.Fatalf("Set-Cookie %q", ck)
	}
	for i := 0; i < 5; i++ {
		res, _ := do(t, "GET", "http://"+tp.addr+"/x", map[string]string{"Cookie": strings.SplitN(ck, ";", 2)[0]}, "")
		if p := (<-lg.ch)[0].Port; p != first || res.Header.Get("Set-Cookie") != "" {
			t.Fatalf("with the cookie: target %d (first %d), Set-Cookie %q", p, first, res.Header.Get("Set-Cookie"))
		}
	}
}

// flipServer answers its status on /status, another one on the rest.
type flipServer struct {
	port   int
	status atomic.Int32
}

func newFlipServer(t *testing.T) *flipServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flipServer{port: ln.Addr().(*net.TCPAddr).Port}
	f.status.Store(200)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/status" {
			w.WriteHeader(int(f.status.Load()))
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

func waitHealth(t *testing.T, reg *balancer.Registry, target, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := reg.Balancer("my-upstream").TargetHealth(target)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %s, want %s", target, got, want)
		}
		time.Sleep(10 * time.Millisecond) // polling, with a deadline
	}
}

func TestBalancerActiveHealth(t *testing.T) {
	f, other := newFlipServer(t), newUpstream(t)
	hc := map[string]any{"active": map[string]any{"http_path": "/status", "timeout": float64(1),
		"healthy":   map[string]any{"interval": 0.05, "successes": float64(2)},
		"unhealthy": map[string]any{"interval": 0.05, "http_failures": float64(2)}}}
	tp, reg, lg := startBalanced(t, upstreamRow(map[string]any{"healthchecks": hc}), targetRow(f.port, 100), targetRow(other.port, 100))
	key := fmt.Sprintf("127.0.0.1:%d", f.port)
	waitHealth(t, reg, key, "HEALTHY")
	f.status.Store(500)
	waitHealth(t, reg, key, "UNHEALTHY")
	for i := 0; i < 4; i++ {
		do(t, "GET", "http://"+tp.addr+"/x", nil, "")
		if p := (<-lg.ch)[0].Port; p != other.port {
			t.Fatalf("request went to the unhealthy target")
		}
	}
	f.status.Store(200)
	waitHealth(t, reg, key, "HEALTHY")
	// the checker stops with its balancer
	reg.Rebuild(context.Background(), nil, nil)
	if reg.Balancer("my-upstream") != nil {
		t.Fatal("balancer kept after its upstream was deleted")
	}
}
