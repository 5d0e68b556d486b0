package host

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// kong.tools.responses (0.x) answers through kong.response.exit with 0.x's
// status, JSON body (a newline after it, as ngx.say wrote), Content-Type and
// Server headers, and ends the handler: code after the call never runs.
func TestLegacyResponses(t *testing.T) {
	n := newRLNode(t, testConf(t, "testdata/legacy"))
	cases := []struct {
		config map[string]any
		status int
		body   string // exact; "" = none
		json   map[string]any
		ctype  string
		header [2]string
	}{
		{config: map[string]any{"helper": "send_HTTP_FORBIDDEN", "message": "Invalid authentication credentials"},
			status: 403, body: `{"message":"Invalid authentication credentials"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_NOT_FOUND"}, status: 404, body: `{"message":"Not found"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_NOT_FOUND", "message": "No API"}, status: 404, body: `{"message":"No API"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_UNAUTHORIZED"}, status: 401, body: `{"message":"Unauthorized"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_SERVICE_UNAVAILABLE"}, status: 503, body: `{"message":"Service unavailable"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_METHOD_NOT_ALLOWED", "message": "ignored"}, status: 405, body: `{"message":"Method not allowed"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_INTERNAL_SERVER_ERROR", "message": "db exploded"},
			status: 500, body: `{"message":"An unexpected error occurred"}` + "\n"},
		{config: map[string]any{"helper": "send_HTTP_NO_CONTENT", "message": "ignored"}, status: 204},
		{config: map[string]any{"helper": "send_HTTP_CREATED", "message": "m", "table_body": true},
			status: 201, json: map[string]any{"message": "m", "extra": "x"}},
		{config: map[string]any{"helper": "send_HTTP_BAD_REQUEST", "message": "bad", "content_type": "text/plain"},
			status: 400, body: `{"message":"bad"}` + "\n", ctype: "text/plain"},
		{config: map[string]any{"helper": "send", "status": float64(418), "message": "I'm a teapot"},
			status: 418, body: `{"message":"I'm a teapot"}` + "\n", header: [2]string{"X-Legacy", "yes"}},
		{config: map[string]any{"helper": "send_HTTP_OK"}, status: 200},
	}
	for i, c := range cases {
		route, _ := n.route(t, fmt.Sprintf("/legacy%d", i))
		n.plugin(t, "legacy-responses", map[string]string{"route": route}, c.config)
	}
	n.sync(t)
	for i, c := range cases {
		t.Run(fmt.Sprint(c.config["helper"], "/", c.status), func(t *testing.T) {
			code, body, hdr := n.getH(t, fmt.Sprintf("/legacy%d/x", i))
			if code != c.status {
				t.Errorf("status %d, want %d (body %q)", code, c.status, body)
			}
			if c.json != nil {
				var got map[string]any
				if err := json.Unmarshal([]byte(body), &got); err != nil || fmt.Sprint(got) != fmt.Sprint(c.json) || !strings.HasSuffix(body, "\n") {
					t.Errorf("body %q, want %v and a newline", body, c.json)
				}
			} else if body != c.body {
				t.Errorf("body %q, want %q", body, c.body)
			}
			want := c.ctype
			if want == "" {
				want = "application/json; charset=utf-8"
			}
			if got := hdr.Get("Content-Type"); got != want {
				t.Errorf("Content-Type %q, want %q", got, want)
			}
			if got := hdr.Values("Content-Type"); len(got) != 1 {
				t.Errorf("Content-Type %q: want one", got)
			}
			if got := hdr.Get("Server"); !strings.HasPrefix(got, "kong/") {
				t.Errorf("Server %q, want kong/<version>", got)
			}
			if c.header[0] != "" && hdr.Get(c.header[0]) != c.header[1] {
				t.Errorf("%s: %q, want %q", c.header[0], hdr.Get(c.header[0]), c.header[1])
			}
		})
	}
	if v, _ := n.h.Root.SharedDict("kong").Get("after"); v != nil {
		t.Errorf("code after responses.send_* ran: %v", v)
	}
	if !strings.Contains(n.logs.String(), "db exploded") {
		t.Errorf("the 500's message was not logged:\n%s", n.logs.String())
	}
}
