package host

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// leakServer accepts connections and reports, for each, its first line
// and then its end (the client closed it).
type leakServer struct {
	port   float64
	lines  chan string
	closed chan string
}

func newLeakServer(t *testing.T) *leakServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &leakServer{port: float64(ln.Addr().(*net.TCPAddr).Port), lines: make(chan string, 8), closed: make(chan string, 8)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rd := bufio.NewReader(c)
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				line = strings.TrimSuffix(line, "\n")
				s.lines <- line
				for {
					if _, err := rd.ReadString('\n'); err != nil {
						s.closed <- line
						return
					}
				}
			}()
		}
	}()
	return s
}

// wait receives from ch, failing the test after a bound far above any
// expected delay (a red run: the socket is never closed).
func (s *leakServer) wait(t *testing.T, ch chan string, what string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s", what)
		return ""
	}
}

func sockLeakNode(t *testing.T) (*rlNode, *leakServer) {
	t.Helper()
	s := newLeakServer(t)
	c := testConf(t, "testdata/sockleak")
	c.Set("worker_max", "1", "test") // "keep" and "reuse" meet in one state
	n := newRLNode(t, c)
	route, _ := n.route(t, "/sock")
	n.plugin(t, "sock-leak", map[string]string{"route": route}, map[string]any{"host": "127.0.0.1", "port": s.port})
	n.sync(t)
	return n, s
}

// A cosocket a request leaves open is closed when the request ends
// (ngx_lua's request cleanup), as is a timer's when its callback returns.
func TestCosocketClosedWithItsContext(t *testing.T) {
	n, s := sockLeakNode(t)
	for _, what := range []string{"leak", "timer"} {
		if code, body := n.get(t, "/sock/"+what); code != 200 || body != what {
			t.Fatalf("%s: %d %q", what, code, body)
		}
		if line := s.wait(t, s.lines, what+" line"); line != what {
			t.Fatalf("got line %q, want %q", line, what)
		}
		if line := s.wait(t, s.closed, "close of the "+what+" connection"); line != what {
			t.Fatalf("closed %q, want %q", line, what)
		}
	}
}

// The cleanup releases the socket's slot in its keepalive pool: a connect
// with pool_size 1 and a backlog, after the request that left the only
// connection open has ended, connects instead of waiting its timeout.
func TestCosocketCleanupReleasesPoolSlot(t *testing.T) {
	n, s := sockLeakNode(t)
	for i := 0; i < 2; i++ {
		if code, body := n.get(t, "/sock/pooled"); code != 200 || body != "pooled" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
		s.wait(t, s.lines, "pooled line")
		s.wait(t, s.closed, "close of the pooled connection")
	}
}

// A socket kept in a module-level table by one request and used by a
// later one answers as ngx_lua's: closed (its request's cleanup closed
// it), and connect raises "bad request" (it belongs to another request).
func TestCosocketOfAnEndedRequest(t *testing.T) {
	n, s := sockLeakNode(t)
	if code, body := n.get(t, "/sock/keep"); code != 200 || body != "keep" {
		t.Fatalf("%d %q", code, body)
	}
	s.wait(t, s.closed, "close of the kept connection")
	code, body := n.get(t, "/sock/reuse")
	if code != 200 || body != "send: nil closed|receive: nil closed|close: nil closed|connect: false bad request" {
		t.Fatalf("%d %q", code, body)
	}
}
