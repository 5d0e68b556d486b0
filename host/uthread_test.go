package host

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// echoServer answers each line it reads with "echo <line>".
func echoServer(t *testing.T) float64 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rd := bufio.NewReader(c)
				for {
					line, err := rd.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte("echo " + line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return float64(ln.Addr().(*net.TCPAddr).Port)
}

// A plugin's access phase makes two cosocket requests in ngx.thread light
// threads and waits on both; a thread left pending ends before the
// handler does; a failed thread is wait's false and error (and logged);
// ngx.exit in a thread ends the handler.
func TestLightThreadsInAccess(t *testing.T) {
	port := echoServer(t)
	n := newRLNode(t, testConf(t, "testdata/uthread"))
	route, _ := n.route(t, "/lt")
	n.plugin(t, "light-threads", map[string]string{"route": route}, map[string]any{"host": "127.0.0.1", "port": port})
	n.sync(t)
	if code, body := n.get(t, "/lt/both"); code != 200 || body != "true echo a, true echo b" {
		t.Fatalf("both: %d %q", code, body)
	}
	if code, body, h := n.getH(t, "/lt/pending"); code != 200 || h.Get("X-Late") != "echo late" {
		t.Fatalf("pending: %d %q X-Late=%q", code, body, h.Get("X-Late"))
	}
	want := "false kong/plugins/light-threads/handler.lua:34: no answer"
	if code, body := n.get(t, "/lt/failed"); code != 200 || body != want {
		t.Fatalf("failed: %d %q", code, body)
	}
	if !strings.Contains(n.logs.String(), "lua user thread aborted: runtime error: kong/plugins/light-threads/handler.lua:34: no answer") {
		t.Fatalf("not logged:\n%s", n.logs.String())
	}
	if code, body := n.get(t, "/lt/exit"); code != 403 {
		t.Fatalf("exit: %d %q", code, body)
	}
}
