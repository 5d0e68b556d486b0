package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/luahost/luahost/router"
)

// waitStats polls the proxy's counters until want holds (10 s deadline).
func waitStats(t *testing.T, p *Proxy, what string, want func(ConnStats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := p.ConnStats()
		if want(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: counters %+v", what, s)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// The connection counters follow real connections through nginx's
// states: one idle connection (waiting), one whose request head is half
// sent (reading), one whose request waits on the upstream (writing), one
// kept alive after its response (waiting again); then all are closed.
func TestConnStats(t *testing.T) {
	u := newUpstream(t)
	u.hold = make(chan struct{})
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	p := tp.p
	dial := func() net.Conn {
		c, err := net.Dial("tcp", tp.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	idle := dial()
	waitStats(t, p, "accepted", func(s ConnStats) bool { return s.Accepted == 1 && s.Active == 1 && s.Waiting == 1 })

	reading := dial()
	fmt.Fprint(reading, "GET /x HTTP/1.1\r\nHost: a\r\n")
	waitStats(t, p, "reading", func(s ConnStats) bool { return s.Reading == 1 && s.Active == 2 })

	writing := dial()
	fmt.Fprint(writing, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	waitStats(t, p, "writing", func(s ConnStats) bool { return s.Writing == 1 && s.Reading == 1 && s.Requests == 1 })

	kept := dial()
	fmt.Fprint(kept, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(kept), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("kept-alive request: %v %v", res, err)
	}
	res.Body.Close()
	want := ConnStats{Accepted: 4, Handled: 4, Active: 4, Reading: 1, Writing: 1, Waiting: 2, Requests: 2}
	waitStats(t, p, "kept alive", func(s ConnStats) bool { return s == want })

	// the upstream answers: the writing connection waits for its next
	// request; the half-sent head is completed and answered
	close(u.hold)
	wr, err := http.ReadResponse(bufio.NewReader(writing), nil)
	if err != nil || wr.StatusCode != 200 {
		t.Fatalf("held request: %v %v", wr, err)
	}
	wr.Body.Close()
	fmt.Fprint(reading, "\r\n")
	rr, err := http.ReadResponse(bufio.NewReader(reading), nil)
	if err != nil || rr.StatusCode != 200 {
		t.Fatalf("completed request: %v %v", rr, err)
	}
	rr.Body.Close()
	want = ConnStats{Accepted: 4, Handled: 4, Active: 4, Waiting: 4, Requests: 3}
	waitStats(t, p, "all answered", func(s ConnStats) bool { return s == want })

	// a malformed request is counted too, and its connection closed
	fmt.Fprint(idle, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: nope\r\n\r\n")
	ir, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || ir.StatusCode != 400 {
		t.Fatalf("malformed request: %v %v", ir, err)
	}
	ir.Body.Close()
	for _, c := range []net.Conn{reading, writing, kept} {
		c.Close()
	}
	want = ConnStats{Accepted: 4, Handled: 4, Requests: 4}
	waitStats(t, p, "all closed", func(s ConnStats) bool { return s == want })
}
