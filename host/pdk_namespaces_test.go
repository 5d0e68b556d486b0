package host

import (
	"testing"
)

// A plugin's referenceable configuration field reaches the handler with
// its secret, the reference in "$refs", as Kong's DAO hands it over; a
// field that is not referenceable keeps the text.
func TestVaultReferenceInPluginConfig(t *testing.T) {
	t.Setenv("LUAHOST_VT_PLUGIN_SECRET", "from-env")
	c := testConf(t, "testdata/pdkns")
	n := newRLNode(t, c)
	route, _ := n.route(t, "/v")
	n.plugin(t, "vault-echo", map[string]string{"route": route},
		map[string]any{"secret": "{vault://env/luahost-vt-plugin-secret}", "plain": "{vault://env/luahost-vt-plugin-secret}"})
	n.sync(t)
	code, body := n.get(t, "/v")
	if want := "from-env|{vault://env/luahost-vt-plugin-secret}|{vault://env/luahost-vt-plugin-secret}"; code != 200 || body != want {
		t.Errorf("got %d %q, want 200 %q", code, body, want)
	}
}

// A plugin's tracer on the request path: spans started in access and
// header_filter, parented through the active span, listed by process_span
// in log; each request has its own spans (ngx.ctx), kong.tracing stays
// Kong's noop tracer.
func TestTracingOnRequestPath(t *testing.T) {
	n := newRLNode(t, testConf(t, "testdata/pdkns"))
	route, _ := n.route(t, "/t")
	n.plugin(t, "trace-spans", map[string]string{"route": route}, map[string]any{})
	n.sync(t)
	for _, path := range []string{"/t/1", "/t/2"} {
		if code, _ := n.get(t, path); code != 200 {
			t.Fatalf("%s: status %d", path, code)
		}
		want := "access " + path + "/root/16/8/true/true;child/under-root/16/8/true/true;header_filter/under-root/16/8/true/true;global=noop"
		if got := n.waitDict(t, "spans "+path); got != want {
			t.Errorf("%s spans:\n got %s\nwant %s", path, got, want)
		}
	}
}
