package host

import (
	"strings"
	"testing"
	"time"
)

// kong.log is the running plugin's facility and core's everywhere else,
// as Kong's runloop switches it around each handler (kong/init.lua
// setup_plugin_context / reset_plugin_context, execute_init_worker_plugins_iterator):
// init_worker and access of klog-a log as [klog-a], klog-b's access after
// it as [klog-b]; what klog-a read at load time, and kong.log in a timer it
// started, are core's (no namespace).
func TestKongLogFollowsPlugin(t *testing.T) {
	c := testConf(t, "testdata/klog")
	c.Set("worker_max", "1", "test")
	n := newRLNode(t, c)
	route, _ := n.route(t, "/klog")
	n.plugin(t, "klog-a", map[string]string{"route": route}, map[string]any{})
	n.plugin(t, "klog-b", map[string]string{"route": route}, map[string]any{})
	n.sync(t)
	if code, body := n.get(t, "/klog"); code != 200 {
		t.Fatalf("GET /klog: %d %s", code, body)
	}
	want := []string{
		"handler.lua:7 [klog-a] a init_worker",
		"handler.lua:11 [klog-a] a access",
		"handler.lua:12 a at_load",
		"handler.lua:5 [klog-b] b access",
		"handler.lua:18 [klog-a] a log",
		"handler.lua:14 a timer",
	}
	// the log phase and the timer may run after the response
	missing := func(logs string) []string {
		var out []string
		for _, w := range want {
			if !strings.Contains(logs, "[kong] "+w+`"`) {
				out = append(out, w)
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(missing(n.logs.String())) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the observable condition
	}
	logs := n.logs.String()
	if m := missing(logs); len(m) > 0 {
		t.Errorf("no lines %q in:\n%s", m, logs)
	}
	if strings.Contains(logs, "error") {
		t.Errorf("an error logged:\n%s", logs)
	}
}
