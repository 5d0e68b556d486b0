package host

import (
	"context"
	"fmt"
	"github.com/luahost/luahost/conf"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// barrier is an upstream whose requests wait until the test releases
// them (or it gives up, after a while, answering "alone"); arrived tells
// each request reaching it.
type barrier struct {
	port    int
	arrived chan string
	release chan struct{}
}

func newBarrier(t *testing.T) *barrier {
	t.Helper()
	b := &barrier{arrived: make(chan string, 16), release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.arrived <- r.Header.Get("X-Tag")
		select {
		case <-b.release:
			fmt.Fprint(w, "together")
		case <-time.After(10 * time.Second):
			fmt.Fprint(w, "alone")
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	b.port = ln.Addr().(*net.TCPAddr).Port
	return b
}

// await waits for n requests at the upstream.
func (b *barrier) await(t *testing.T, n int, why string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-b.arrived:
		case <-timeout:
			t.Fatalf("%d of %d requests reached the upstream: %s", i, n, why)
		}
	}
}

// routeTo adds a service on port and a route on path to it.
func (n *rlNode) routeTo(t *testing.T, path string, port int) string {
	t.Helper()
	svc := n.insert(t, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(port)})
	r := n.insert(t, "routes", map[string]any{"paths": []any{path}, "service": map[string]any{"id": svc["id"]}})
	return r["id"].(string)
}

type tagged struct {
	code      int
	body, ctx string
	reqID     string
	err       error
}

// getTagged sends GET path with X-Tag: tag in the background.
func (n *rlNode) getTagged(path, tag string) <-chan tagged {
	out := make(chan tagged, 1)
	go func() {
		req, _ := http.NewRequest("GET", n.base+path, nil)
		req.Header.Set("X-Tag", tag)
		client := &http.Client{Timeout: 30 * time.Second}
		res, err := client.Do(req)
		if err != nil {
			out <- tagged{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		out <- tagged{code: res.StatusCode, body: string(b), ctx: res.Header.Get("X-Ctx-Tag"),
			reqID: res.Header.Get("X-Kong-Request-Id")}
	}()
	return out
}

func recvTagged(t *testing.T, ch <-chan tagged) tagged {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r
	case <-time.After(40 * time.Second):
		t.Fatal("no response")
	}
	return tagged{}
}

// waitDict waits for key in ngx.shared.kong (log runs after the response).
func (n *rlNode) waitDict(t *testing.T, key string) string {
	t.Helper()
	d := n.h.Root.SharedDict("kong")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, _ := d.Get(key); v != nil {
			s, _ := v.(string)
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never set", key)
		}
		time.Sleep(5 * time.Millisecond) // polling the observable condition
	}
}

func pinConf(t *testing.T) *rlNode { return pinNode(t, iterConf(t)) }

// pinNode starts a node of one worker with c.
func pinNode(t *testing.T, c *conf.Config) *rlNode {
	c.Set("worker_max", "1", "test")
	return newRLNode(t, c)
}

// One worker serves several requests in flight: a request holds its
// worker only while a phase runs, not across the upstream call, so two
// requests pinned to the only worker both reach an upstream that answers
// only once both are there; each keeps its own ngx.ctx, kong.ctx.plugin
// and kong.ctx.shared through header_filter and log.
func TestRunloopRequestsInterleaveOnOneWorker(t *testing.T) {
	n := pinConf(t)
	b := newBarrier(t)
	route := n.routeTo(t, "/slow", b.port)
	n.plugin(t, "ctx-tag", map[string]string{"route": route}, map[string]any{"tag": "conf"})
	n.sync(t)

	ra, rb := n.getTagged("/slow", "a"), n.getTagged("/slow", "b")
	b.await(t, 2, "a request held the only worker across its upstream call")
	close(b.release)
	for tag, ch := range map[string]<-chan tagged{"a": ra, "b": rb} {
		r := recvTagged(t, ch)
		want := tag + "/" + tag + "/" + tag + "/" + tag + "/conf"
		if r.code != 200 || r.body != "together" || r.ctx != want {
			t.Errorf("request %s: %d %q X-Ctx-Tag %q, want 200 together %q", tag, r.code, r.body, r.ctx, want)
		}
		if got := n.waitDict(t, "log:"+tag); got != want {
			t.Errorf("log of %s saw %q, want %q", tag, got, want)
		}
	}
	if st := n.h.Pool.Stat(); st.Total != 1 || st.Created != 1 {
		t.Errorf("pool %+v: want the one worker", st)
	}
}

// A deadline that stops one request's code poisons the worker other
// requests are pinned to: it is replaced at once; a request pinned to it
// and waiting for its upstream still gets its response, with its
// remaining plugin phases skipped (logged) — never run on the broken or
// closed state; the next requests run on the replacement.
func TestRunloopWorkerReplacedMidRequest(t *testing.T) {
	n := pinNode(t, spinConf(t))
	b := newBarrier(t)
	slow := n.routeTo(t, "/slow", b.port)
	n.plugin(t, "ctx-tag", map[string]string{"route": slow}, map[string]any{"tag": "conf"})
	spin, _ := n.route(t, "/spin")
	n.plugin(t, "trace-a", map[string]string{"route": spin}, map[string]any{"tag": "spin", "spin": true})
	n.sync(t)

	discarded := n.h.Pool.Stat().Discarded
	ra := n.getTagged("/slow", "a")
	b.await(t, 1, "first request")
	rs := n.getTagged("/spin", "s")
	if r := recvTagged(t, rs); r.code != 500 {
		t.Fatalf("runaway access: %d %q", r.code, r.body)
	}
	if st := n.h.Pool.Stat(); st.Discarded != discarded+1 {
		t.Errorf("the runaway's worker not retired at once: %+v", st)
	}
	close(b.release)
	r := recvTagged(t, ra)
	if r.code != 200 || r.body != "together" || r.ctx != "" {
		t.Errorf("request on the replaced worker: %d %q X-Ctx-Tag %q, want 200 together and no header_filter", r.code, r.body, r.ctx)
	}
	want := "the request's worker was stopped by another request's deadline and is replaced: " +
		"its remaining plugin phases are skipped\" worker=0 request_id=" + r.reqID
	if logs := n.logs.String(); !strings.Contains(logs, want) {
		t.Errorf("log:\n%s\nwant a line with %s", logs, want)
	}
	rc := recvTagged(t, n.getTagged("/slow", "c"))
	if rc.code != 200 || rc.ctx != "c/c/c/c/conf" {
		t.Errorf("request on the replacement: %d %q X-Ctx-Tag %q", rc.code, rc.body, rc.ctx)
	}
	n.waitDict(t, "log:c")
	if v, _ := n.h.Root.SharedDict("kong").Get("log:a"); v != nil {
		t.Errorf("the log phase of the request on the replaced worker ran: %v", v)
	}
	if st := n.h.Pool.Stat(); st.Total != 1 || st.Created != 2 {
		t.Errorf("pool %+v: want one worker, the replacement", st)
	}
}

// Closing the pool (shutdown) with requests pinned to a worker and
// waiting for their upstream: they finish, header_filter and log
// included, and the state closes after; new requests get no worker.
func TestRunloopPoolCloseFinishesPinnedRequests(t *testing.T) {
	n := pinConf(t)
	b := newBarrier(t)
	route := n.routeTo(t, "/slow", b.port)
	n.plugin(t, "ctx-tag", map[string]string{"route": route}, map[string]any{"tag": "conf"})
	n.sync(t)

	ra, rb := n.getTagged("/slow", "a"), n.getTagged("/slow", "b")
	b.await(t, 2, "a request held the only worker across its upstream call")
	n.h.Pool.Close()
	if r := recvTagged(t, n.getTagged("/slow", "late")); r.code != 500 {
		t.Errorf("request after Close: %d %q", r.code, r.body)
	}
	close(b.release)
	for tag, ch := range map[string]<-chan tagged{"a": ra, "b": rb} {
		r := recvTagged(t, ch)
		want := tag + "/" + tag + "/" + tag + "/" + tag + "/conf"
		if r.code != 200 || r.body != "together" || r.ctx != want {
			t.Errorf("request %s: %d %q X-Ctx-Tag %q, want 200 together %q", tag, r.code, r.body, r.ctx, want)
		}
		if got := n.waitDict(t, "log:"+tag); got != want {
			t.Errorf("log of %s saw %q, want %q", tag, got, want)
		}
	}
	if st := n.h.Pool.Stat(); st.Total != 0 || st.Idle != 0 {
		t.Errorf("pool after Close: %+v", st)
	}
}

// A rebuild while a request is in flight moves its worker to the new
// build (configure runs between the request's phases); the request's
// later phases still run with the configuration of the build it started
// with, the next request with the new one.
func TestRunloopRebuildMidRequest(t *testing.T) {
	n := pinConf(t)
	b := newBarrier(t)
	route := n.routeTo(t, "/slow", b.port)
	p := n.plugin(t, "ctx-tag", map[string]string{"route": route}, map[string]any{"tag": "v1"})
	n.sync(t)

	ra := n.getTagged("/slow", "a")
	b.await(t, 1, "first request")
	if _, err := n.h.Root.DB.DAO("plugins").Update(context.Background(), map[string]any{"id": p["id"]},
		map[string]any{"config": map[string]any{"tag": "v2"}}, nil); err != nil {
		t.Fatal(err)
	}
	n.sync(t)
	close(b.release)
	if r := recvTagged(t, ra); r.ctx != "a/a/a/a/v1" {
		t.Errorf("request begun before the rebuild: X-Ctx-Tag %q, want its build's a/a/a/a/v1", r.ctx)
	}
	if got := n.waitDict(t, "log:a"); got != "a/a/a/a/v1" {
		t.Errorf("its log saw %q", got)
	}
	if r := recvTagged(t, n.getTagged("/slow", "c")); r.ctx != "c/c/c/c/v2" {
		t.Errorf("request after the rebuild: X-Ctx-Tag %q, want c/c/c/c/v2", r.ctx)
	}
}
