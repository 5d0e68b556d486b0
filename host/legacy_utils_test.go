package host

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
)

// kong.tools.utils.check_https in its 0.x form check_https(allow_terminated)
// trusts X-Forwarded-Proto from any client; the 1.x+ form
// check_https(trusted_ip, allow_terminated) only from a trusted one.
func TestLegacyUtilsCheckHTTPS(t *testing.T) {
	n := newRLNode(t, testConf(t, "testdata/legacy"))
	route, _ := n.route(t, "/utils")
	n.plugin(t, "legacy-utils", map[string]string{"route": route}, map[string]any{})
	n.sync(t)
	for _, c := range []struct {
		proto string
		want  map[string]any
	}{
		{"", map[string]any{"new_form_untrusted": false, "old_form": false, "old_form_strict": false}},
		{"https", map[string]any{"new_form_untrusted": false, "old_form": true, "old_form_strict": false}},
	} {
		req, _ := http.NewRequest("GET", n.base+"/utils/x", nil)
		if c.proto != "" {
			req.Header.Set("X-Forwarded-Proto", c.proto)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil || res.StatusCode != 200 || !reflect.DeepEqual(got, c.want) {
			t.Errorf("X-Forwarded-Proto %q: %d %q, want %v", c.proto, res.StatusCode, b, c.want)
		}
	}
}
