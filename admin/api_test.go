package admin

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// api.lua run as Kong runs it: overrides of generated endpoints (with a
// before hook and parent), routes built from kong.api.endpoints, self.params
// and self.args, kong.response.exit, yield_error and Lua errors.
func TestPluginAPILua(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		n.must(201, "POST", "/consumers", M{"username": "bob"})
		// POST override: the handler changes self.args.post, then parent()
		note := n.must(201, "POST", "/consumers/bob/note", M{"title": "first"})
		if note["body"] != "(empty)" || note["title"] != "first" {
			t.Fatalf("override: %v", note)
		}
		// the before hook answers first
		r := n.do("POST", "/consumers/bob/note", M{"title": "second"}, "")
		if r.Status != 201 {
			t.Fatal(r.Raw)
		}
		req := n.do("GET", "/consumers/bob/note", nil)
		if req.Status != 200 || len(data(req.Body)) != 2 {
			t.Fatalf("generated GET kept beside the override: %d %s", req.Status, req.Raw)
		}
		// GET override sets a header and calls the generated endpoint
		r = n.do("GET", "/notes/first", nil)
		if r.Status != 200 || r.Header.Get("X-Notes-Override") != "yes" || r.Body["title"] != "first" {
			t.Fatalf("GET override: %d %v %s", r.Status, r.Header, r.Raw)
		}
		// the verbs api.lua did not override stay the generated ones
		if got := n.must(200, "PATCH", "/notes/first", url.Values{"body": {"edited"}}); got["body"] != "edited" {
			t.Fatal(got)
		}
		n.must(404, "GET", "/notes/nothing", nil)
		// a route of its own: self.args.uri, self.params, self.req
		got := n.must(200, "GET", "/notes-search?title=first", nil)
		if got["title_param"] != "first" || got["method"] != "GET" || got["note"].(map[string]any)["body"] != "edited" {
			t.Fatal(got)
		}
		if r := n.do("GET", "/notes-search?title=none", nil); r.Status != 404 || r.Body["message"] != "no note titled none" {
			t.Fatal(r.Raw)
		}
		// form bodies reach self.args.post decoded and inferred
		got = n.must(200, "POST", "/notes-search", url.Values{"title": {"x"}, "tags[]": {"a", "b"}, "body": {""}})
		post := got["post"].(map[string]any)
		if post["title"] != "x" || fmt.Sprint(post["tags"]) != "[a b]" || post["body"] != nil || got["json"] != nil {
			t.Fatal(got)
		}
		got = n.must(200, "POST", "/notes-search", M{"title": "j"})
		if got["json"].(map[string]any)["title"] != "j" {
			t.Fatal(got)
		}
		// kong.api.endpoints helpers on a route of its own
		n.must(201, "POST", "/notes-by/bob", M{"title": "third"})
		if got := data(n.must(200, "GET", "/notes-by/bob", nil)); len(got) != 3 {
			t.Fatal(got)
		}
		n.must(404, "GET", "/notes-by/nobody", nil)
		// errors: a DAO error through helpers.yield_error, a Lua error
		r = n.do("GET", "/notes-fail/yield", nil)
		if r.Status != 400 || r.Body["name"] != "schema violation" {
			t.Fatalf("yield_error: %d %s", r.Status, r.Raw)
		}
		if _, has := r.Body["strategy"]; has {
			t.Fatal("strategy leaked", r.Raw)
		}
		if r := n.do("GET", "/notes-fail/boom", nil); r.Status != 500 || r.Body["message"] != "An unexpected error occurred" {
			t.Fatalf("Lua error: %d %s", r.Status, r.Raw)
		}
		// a handler writing its body with ngx.print / ngx.say and no exit:
		// that body, with the status and headers it set
		if r := n.do("GET", "/notes-print", nil); r.Status != 201 || r.Raw != "hello 1true\n" || r.Header.Get("X-Foo") != "bar" {
			t.Fatalf("ngx.print: %d %q %v", r.Status, r.Raw, r.Header)
		}
		// 405 and OPTIONS on an api.lua route
		if r := n.do("DELETE", "/notes-search", nil); r.Status != 405 {
			t.Fatal(r.Raw)
		}
		if r := n.do("OPTIONS", "/notes-search", nil); r.Status != 204 || !strings.Contains(r.Header.Get("Allow"), "POST") {
			t.Fatal(r.Status, r.Header)
		}
		// the routes are listed by /endpoints
		eps := fmt.Sprint(data(n.must(200, "GET", "/endpoints", nil)))
		for _, p := range []string{"/notes-search", "/notes-by/{consumers}", "/consumers/{consumers}/note", "/token-auths/{token_credentials}"} {
			if !strings.Contains(eps, p) {
				t.Fatalf("/endpoints lacks %s: %s", p, eps)
			}
		}
	})
}

func TestPluginAPIBeforeHook(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		n.must(201, "POST", "/consumers", M{"username": "bob"})
		req := n.do("POST", "/consumers/bob/note", `{"title":"t"}`, "application/json")
		if req.Status != 201 {
			t.Fatal(req.Raw)
		}
		r := n.doHeader("GET", "/consumers/bob/note", "X-Deny", "1")
		if r.Status != 403 || r.Body["message"] != "denied by before" {
			t.Fatalf("before hook: %d %s", r.Status, r.Raw)
		}
		r = n.doHeader("POST", "/consumers/bob/note", "X-Deny", "1")
		if r.Status != 403 {
			t.Fatalf("before hook on POST: %d %s", r.Status, r.Raw)
		}
		if got := data(n.must(200, "GET", "/consumers/bob/note", nil)); len(got) != 1 {
			t.Fatal("the denied POST wrote", got)
		}
	})
}

// An old-style api.lua (no schema): routes attached as they are.
func TestPluginAPILegacyStyle(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		got := n.must(200, "GET", "/legacy/abc?q=1", nil)
		if got["name"] != "abc" || got["q"] != "1" || got["dao"] != "table" {
			t.Fatal(got)
		}
		if r := n.do("GET", "/legacy/forbidden", nil); r.Status != 403 || r.Body["message"] != "no" {
			t.Fatal(r.Status, r.Raw)
		}
		n.must(204, "DELETE", "/legacy/abc", nil)
		n.must(405, "POST", "/legacy/abc", M{})
	})
}

// api.lua routes served by several workers at once (each builds its own
// route table on first use).
func TestPluginAPIConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		n.must(201, "POST", "/consumers", M{"username": "bob"})
		n.must(201, "POST", "/consumers/bob/note", M{"title": "t"})
		errs := make(chan string, 64)
		done := make(chan struct{})
		for g := 0; g < 8; g++ {
			go func() {
				defer func() { done <- struct{}{} }()
				for i := 0; i < 10; i++ {
					r := n.doNoFatal("GET", "/notes-search?title=t")
					if r != 200 {
						errs <- fmt.Sprint("status ", r)
						return
					}
				}
			}()
		}
		for g := 0; g < 8; g++ {
			<-done
		}
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
		if st := n.h.Pool.Stat(); st.Total < 2 {
			t.Logf("only %d worker(s) were used", st.Total)
		}
	})
}
