package host

import (
	"io"
	"net/http"
	"testing"

	"github.com/luahost/luahost/proxy"
)

// Kong's debug headers with plugins: the plugins' header_filter sees
// them, a plugin's exit carries them, and a value a plugin set in access
// replaces the router's (Kong sets them in ngx.header before the access
// plugins run), on a proxied response and on the plugin's exit.
func TestDebugHeadersWithPlugins(t *testing.T) {
	n := newRLNodeWith(t, testConf(t, "testdata/debughdr"), proxy.Config{AllowDebugHeader: true})
	svc := n.insert(t, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(n.upPort)})
	route := func(path string) string {
		r := n.insert(t, "routes", map[string]any{"name": path[1:], "paths": []any{path},
			"service": map[string]any{"id": svc["id"]}})
		return r["id"].(string)
	}
	plain, plainSvc := route("/plain"), svc["id"].(string)
	renamed, exited, renamedExit := route("/renamed"), route("/exited"), route("/renamed-exit")
	n.plugin(t, "debug-peek", map[string]string{"route": plain}, map[string]any{})
	n.plugin(t, "debug-peek", map[string]string{"route": renamed}, map[string]any{"route_name": "from-plugin"})
	n.plugin(t, "debug-peek", map[string]string{"route": exited}, map[string]any{"exit": true})
	n.plugin(t, "debug-peek", map[string]string{"route": renamedExit}, map[string]any{"route_name": "from-plugin", "exit": true})
	n.sync(t)
	get := func(path string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", n.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Kong-Debug", "1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	res := get("/plain/x")
	if res.StatusCode != 200 || res.Header.Get("Kong-Route-Id") != plain || res.Header.Get("Kong-Route-Name") != "plain" ||
		res.Header.Get("Kong-Service-Id") != plainSvc || res.Header.Get("X-Seen-Route-Id") != plain {
		t.Errorf("plain: %d %v", res.StatusCode, res.Header)
	}
	res = get("/renamed/x")
	if v := res.Header.Values("Kong-Route-Name"); len(v) != 1 || v[0] != "from-plugin" || res.Header.Get("Kong-Route-Id") != renamed {
		t.Errorf("renamed in access: Kong-Route-Name %q, %v", v, res.Header)
	}
	res = get("/exited/x")
	if res.StatusCode != 401 || res.Header.Get("Kong-Route-Id") != exited || res.Header.Get("X-Seen-Route-Id") != exited {
		t.Errorf("exit: %d %v", res.StatusCode, res.Header)
	}
	res = get("/renamed-exit/x")
	if v := res.Header.Values("Kong-Route-Name"); res.StatusCode != 401 || len(v) != 1 || v[0] != "from-plugin" {
		t.Errorf("renamed in access, then exit: %d Kong-Route-Name %q", res.StatusCode, v)
	}
}
