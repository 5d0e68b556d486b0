package host

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/internal/linetest"
)

// A plugin's access phase makes two cosocket requests in ngx.thread light
// threads and waits on both; a thread left pending ends before the
// handler does; a failed thread is wait's false and error (and logged);
// ngx.exit in a thread ends the handler.
func TestLightThreadsInAccess(t *testing.T) {
	port, _ := linetest.Lines(t, func(line string) (string, bool) { return "echo " + line + "\n", true })
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
