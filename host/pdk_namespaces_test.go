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
