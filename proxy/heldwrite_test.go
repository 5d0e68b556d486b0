package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestRequestComplete(t *testing.T) {
	for _, c := range []struct {
		req  string
		want bool
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"GET / HTTP/1.1\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", true},
		{"POST / HTTP/1.1\r\nhost: x\r\ncontent-length:5\r\n\r\nhello", true},
		{"POST / HTTP/1.1\r\nCONTENT-LENGTH:  0 \r\n\r\n", true},
		{"POST / HTTP/1.1\r\nX-Content-Length: 3\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nContent-Type: a\r\nContent-Length: 5\r\n\r\nhel", false},           // the body's rest to come
		{"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello, more", false},                      // more than framed
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n", false},                      // two requests
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false}, // a stream
		{"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", false},
		{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\na", false},
		{"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nContent-Length\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\n", false}, // the header's end to come
		{"GET / HTTP/1.1\nHost: x\n\r\n\r\n", false},
		{"", false},
	} {
		if got := requestComplete([]byte(c.req)); got != c.want {
			t.Errorf("requestComplete(%q) = %v, want %v", c.req, got, c.want)
		}
	}
}

// heldPair is an upstream connection as the proxy's fasthttp client has
// it (a timedConn on a TCP socket), and the upstream's end.
func heldPair(t *testing.T) (*timedConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	up := <-accepted
	if up == nil {
		t.Fatal("accept failed")
	}
	tc := &timedConn{Conn: nc, read: 10 * time.Second, write: 10 * time.Second}
	tc.held.init(nc)
	t.Cleanup(func() { tc.Close(); up.Close() })
	return tc, up
}

// The request is held until its response is read, and the read waits
// before reading: one read(2) per answer.
func TestHeldRequestSentByTheRead(t *testing.T) {
	tc, up := heldPair(t)
	served := make(chan string, 1)
	go func() {
		br := bufio.NewReader(up)
		var got []string
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				served <- strings.Join(got, ",")
				return
			}
			body, _ := io.ReadAll(req.Body)
			got = append(got, req.URL.Path+" "+string(body))
			io.WriteString(up, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	}()
	const n = 200
	var want []string
	for i := 0; i < n; i++ {
		req := "GET /r" + strconv.Itoa(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"
		if i%2 == 1 {
			req = "POST /r" + strconv.Itoa(i) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
			want = append(want, "/r"+strconv.Itoa(i)+" body")
		} else {
			want = append(want, "/r"+strconv.Itoa(i)+" ")
		}
		tc.held.answer = monoNow() // however slow the machine: answered just now
		if m, err := tc.Write([]byte(req)); err != nil || m != len(req) {
			t.Fatalf("write %d: %d %v", i, m, err)
		}
		if !tc.held.pending() {
			t.Fatalf("request %d not held", i)
		}
		buf := make([]byte, 64)
		got := 0
		for got < len("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
			m, err := tc.Read(buf[got:])
			if err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			got += m
		}
		if tc.held.pending() {
			t.Fatalf("request %d still held after its response", i)
		}
	}
	tc.Conn.(*net.TCPConn).CloseWrite()
	if got := <-served; got != strings.Join(want, ",") {
		t.Errorf("the upstream got %q", got)
	}
	// A read that found nothing after the wait is the poller waking the
	// goroutine for nothing: rare, never one per request.
	if tc.held.waitRds > n/10 {
		t.Errorf("%d of %d reads after the wait found nothing: the read did not wait first", tc.held.waitRds, n)
	}
}

// What is not a whole request goes out at once; a held request leaves
// before the next write.
func TestHeldWriteOrder(t *testing.T) {
	tc, up := heldPair(t)
	up.SetDeadline(time.Now().Add(10 * time.Second))
	part := "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello"
	tc.Write([]byte(part))
	if tc.held.pending() {
		t.Fatal("a part of a request was held")
	}
	buf := make([]byte, len(part))
	if _, err := io.ReadFull(up, buf); err != nil || string(buf) != part {
		t.Fatalf("the upstream got %q %v before the request's end", buf, err)
	}
	whole := "GET /a HTTP/1.1\r\n\r\n"
	tc2, up2 := heldPair(t)
	up2.SetDeadline(time.Now().Add(10 * time.Second))
	tc2.Write([]byte(whole))
	if !tc2.held.pending() {
		t.Fatal("a whole request was not held")
	}
	tc2.Write([]byte("more"))
	if tc2.held.pending() {
		t.Fatal("still held after a second write")
	}
	buf = make([]byte, len(whole)+4)
	if _, err := io.ReadFull(up2, buf); err != nil || string(buf) != whole+"more" {
		t.Fatalf("the upstream got %q %v", buf, err)
	}
}

// A connection idle for heldIdle since its last answer is written and
// read as any other (the upstream may have shut it down).
func TestHeldNotAfterIdle(t *testing.T) {
	tc, up := heldPair(t)
	up.SetDeadline(time.Now().Add(10 * time.Second))
	tc.held.answer = monoNow() - heldIdle
	req := "GET / HTTP/1.1\r\n\r\n"
	tc.Write([]byte(req))
	if tc.held.pending() {
		t.Fatal("held on a connection idle for heldIdle")
	}
	buf := make([]byte, len(req))
	if _, err := io.ReadFull(up, buf); err != nil {
		t.Fatal(err)
	}
	// the answer read makes it fresh again
	io.WriteString(up, "x")
	if _, err := tc.Read(buf); err != nil {
		t.Fatal(err)
	}
	tc.Write([]byte(req))
	if !tc.held.pending() {
		t.Fatal("not held after an answer")
	}
}

// The upstream's errors, as reading first would have found them: a
// connection it closed is io.EOF (fasthttp retries idempotent requests on
// it), a deadline a timeout.
func TestHeldReadErrors(t *testing.T) {
	t.Run("closed before the request", func(t *testing.T) {
		tc, up := heldPair(t)
		up.Close()
		// the close may reach our socket before or after the request leaves
		tc.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		_, err := tc.Read(make([]byte, 10))
		if err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		tc, up := heldPair(t)
		go func() {
			io.ReadFull(up, make([]byte, len("GET / HTTP/1.1\r\n\r\n")))
			up.(*net.TCPConn).SetLinger(0)
			up.Close()
		}()
		tc.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		if _, err := tc.Read(make([]byte, 10)); err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		tc, _ := heldPair(t)
		tc.read = 30 * time.Millisecond // nothing comes
		tc.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		_, err := tc.Read(make([]byte, 10))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("got %v, want a timeout", err)
		}
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "read" {
			t.Fatalf("got %#v, want a read error", err)
		}
	})
}

// A send the socket does not take at once goes on as a blocking write.
func TestHeldPartialSend(t *testing.T) {
	tc, up := heldPair(t)
	calls := 0
	sysWrite = func(fd int, b []byte) (int, error) {
		calls++
		if calls == 1 {
			return syscall.Write(fd, b[:3])
		}
		return 0, syscall.EAGAIN
	}
	t.Cleanup(func() { sysWrite = syscall.Write })
	req := "GET /partial HTTP/1.1\r\n\r\n"
	go func() {
		buf := make([]byte, len(req))
		io.ReadFull(up, buf)
		io.WriteString(up, "<"+string(buf)+">")
	}()
	tc.Write([]byte(req))
	buf := make([]byte, len(req)+2)
	if _, err := io.ReadFull(tc, buf); err != nil || string(buf) != "<"+req+">" {
		t.Fatalf("got %q %v", buf, err)
	}
}

// The proxy's HTTP/1.1 client holds requests on its TCP connections; the
// gRPC (HTTP/2) transport, which reads while it writes, never does.
func TestHeldOnlyOnHTTP1Client(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // the kernel completes the connections: nothing need accept them
	p := New(nil, Config{})
	addr := ln.Addr().(*net.TCPAddr)
	k := upstreamKey{host: "127.0.0.1", port: addr.Port}
	nc, err := p.newClient(k).Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if tc, ok := nc.(*timedConn); !ok || tc.held.rc == nil {
		t.Errorf("the HTTP/1.1 client's connection %T holds no requests", nc)
	}
	gc, err := p.newGRPCTransport(grpcKey{upstreamKey: k}).DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	if tc, ok := gc.(*timedConn); !ok || tc.held.rc != nil {
		t.Errorf("the gRPC transport's connection %T would hold requests", gc)
	}
}

// A held round trip allocates nothing (the request path's budget).
func TestHeldRoundTripAllocs(t *testing.T) {
	tc, up := heldPair(t)
	const req = "GET / HTTP/1.1\r\n\r\n"
	go func() {
		buf, ok := make([]byte, len(req)), []byte("ok")
		for {
			if _, err := io.ReadFull(up, buf); err != nil {
				return
			}
			if _, err := up.Write(ok); err != nil {
				return
			}
		}
	}()
	wbuf, rbuf := []byte(req), make([]byte, 2)
	rt := func() {
		tc.Write(wbuf)
		if _, err := io.ReadFull(tc, rbuf); err != nil {
			t.Fatal(err)
		}
	}
	rt()
	if got := testing.AllocsPerRun(200, rt); got != 0 {
		t.Errorf("%.1f allocations per held round trip, want 0", got)
	}
}

// A client connection's read yields first after a write, with one P only.
func TestClientReadYieldsAfterWrite(t *testing.T) {
	tc, up := heldPair(t)
	lc := &logConn{Conn: tc.Conn}
	buf := make([]byte, 1)
	step := func(procs int32, write bool) int {
		before := lc.yields
		if write {
			if _, err := lc.Write([]byte("a")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := up.Write([]byte("b")); err != nil {
			t.Fatal(err)
		}
		if _, err := lc.read(buf, procs); err != nil || buf[0] != 'b' {
			t.Fatalf("read %q %v", buf, err)
		}
		return lc.yields - before
	}
	for _, c := range []struct {
		procs int32
		write bool
		want  int
	}{{1, true, 1}, {1, false, 0}, {2, true, 0}, {1, true, 1}, {4, true, 0}} {
		if got := step(c.procs, c.write); got != c.want {
			t.Errorf("GOMAXPROCS %d, write first %v: %d yields, want %d", c.procs, c.write, got, c.want)
		}
	}
	if got := gomaxprocs.Load(); got != int32(runtime.GOMAXPROCS(0)) {
		t.Errorf("gomaxprocs %d, GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
}

// With one P, a held request's send waits for the goroutines already
// runnable (their requests leave in the same burst); with more, it does
// not wait.
func TestHeldSendYieldsToRunnable(t *testing.T) {
	tc, up := heldPair(t)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			up.Write(buf[:n])
		}
	}()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer gomaxprocs.Store(gomaxprocs.Load())
	var ran atomic.Bool
	sysWrite = func(fd int, b []byte) (int, error) {
		if ran.Load() {
			b = append([]byte("after "), b...)
		} else {
			b = append([]byte("before"), b...)
		}
		n, err := syscall.Write(fd, b)
		return n - 6, err
	}
	t.Cleanup(func() { sysWrite = syscall.Write })
	for _, c := range []struct {
		procs int32
		want  string
	}{{1, "after GET / HTTP/1.1\r\n\r\n"}, {2, "beforeGET / HTTP/1.1\r\n\r\n"}} {
		gomaxprocs.Store(c.procs)
		ran.Store(false)
		done := make(chan struct{})
		go func() { ran.Store(true); close(done) }() // runnable, not yet run: one P
		// however slow the machine: answered just now (heldIdle)
		tc.held.answer = monoNow()
		if _, err := tc.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil || !tc.held.pending() {
			t.Fatalf("the request was not held (%v)", err)
		}
		buf := make([]byte, len(c.want))
		if _, err := io.ReadFull(tc, buf); err != nil {
			t.Fatal(err)
		}
		if string(buf) != c.want {
			t.Errorf("GOMAXPROCS %d: the upstream got %q, want %q", c.procs, buf, c.want)
		}
		<-done
	}
}
