package host

import (
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/proxy"
)

// A plugin that makes a cosocket in header_filter, body_filter or log
// fails there as in Kong, with OpenResty's "API disabled in the context
// of ..." logged as the phase's error; the same plugin connects (and
// sleeps) in access and in a timer, the way Kong's log plugins do it.
func TestCosocketRefusedOutsideYieldablePhases(t *testing.T) {
	s := newLeakServer(t)
	n := newRLNode(t, testConf(t, "testdata/ctxcheck"))
	route, _ := n.route(t, "/ctx")
	n.plugin(t, "ctx-check", map[string]string{"route": route}, map[string]any{"host": "127.0.0.1", "port": s.port})
	n.sync(t)
	errs := make(chan string, 8)
	n.rl.OnPhase = func(_ *proxy.Context, plugin, phase string, _ bool, err error) {
		if err != nil {
			errs <- phase + ": " + err.Error()
		}
	}
	for _, what := range []string{"access", "timer"} {
		if code, body := n.get(t, "/ctx/"+what); code != 200 || body != what {
			t.Fatalf("%s: %d %q", what, code, body)
		}
		if line := s.wait(t, s.lines, what+" line"); line != what {
			t.Fatalf("got line %q, want %q", line, what)
		}
	}
	for _, c := range []struct{ phase, name string }{
		{"header_filter", "header_filter_by_lua*"}, {"body_filter", "body_filter_by_lua*"}, {"log", "log_by_lua*"},
	} {
		n.get(t, "/ctx/"+c.phase)
		var got string
		select {
		case got = <-errs:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no error", c.phase)
		}
		want := c.phase + ": plugin 'ctx-check' (" + c.phase + "): kong/plugins/ctx-check/handler.lua:37: " +
			"API disabled in the context of " + c.name
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
		// logged right after OnPhase is told
		line := "handler.lua:37: API disabled in the context of " + c.name
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(n.logs.String(), line); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not in the log:\n%s", c.phase, n.logs.String())
			}
			time.Sleep(5 * time.Millisecond) // polling the observable condition
		}
	}
	select {
	case e := <-errs:
		t.Fatalf("another error: %s", e)
	default:
	}
}
