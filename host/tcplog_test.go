package host

import (
	"bufio"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// A plugin shaped as Kong's tcp-log, end to end through the proxy: each
// request's log phase sends its serialized entry as a JSON line over
// ngx.socket.tcp from a timer, and the second request's line comes over
// the connection the first one left in the pool.
func TestTCPLogShapedPlugin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan string, 4)
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				defer c.Close()
				rd := bufio.NewReader(c)
				for {
					line, err := rd.ReadString('\n')
					if err != nil {
						return
					}
					lines <- line
				}
			}()
		}
	}()
	n := newRLNode(t, testConf(t, "testdata/tcplog"))
	route, _ := n.route(t, "/logged")
	n.plugin(t, "tcp-log-shape", map[string]string{"route": route}, map[string]any{
		"host": "127.0.0.1", "port": float64(ln.Addr().(*net.TCPAddr).Port),
	})
	n.sync(t)
	for i, want := range []float64{0, 1} {
		if code, body := n.get(t, "/logged/x"); code != 200 || !strings.HasPrefix(body, "upstream /x") {
			t.Fatalf("%d %q", code, body)
		}
		var line string
		select {
		case line = <-lines:
		case <-time.After(30 * time.Second):
			t.Fatalf("request %d: no log line; logs:\n%s", i, n.logs)
		}
		var entry struct {
			Request struct {
				URI string `json:"uri"`
			} `json:"request"`
			Response struct {
				Status int `json:"status"`
			} `json:"response"`
			Reused float64 `json:"reused"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if entry.Request.URI != "/logged/x" || entry.Response.Status != 200 || entry.Reused != want {
			t.Fatalf("request %d: entry %+v from %q", i, entry, line)
		}
	}
	if len(accepted) != 1 {
		t.Fatalf("%d connections for two entries, want 1", len(accepted))
	}
}
