package host

import (
	"strings"
	"testing"
)

// Seed 003's handler: a credential loaded once through
// database_cache.get_or_set and then served from the node's cache, a
// missing one answered 403, and a loader that answers 500 through
// kong.tools.responses ending the request with nothing cached.
func TestLegacyDatabaseCacheSeedHandler(t *testing.T) {
	c := testConf(t, "testdata/legacy")
	c.Set("worker_max", "2", "test")
	n := newRLNode(t, c)
	route, _ := n.route(t, "/lc")
	n.plugin(t, "legacy-cache", map[string]string{"route": route}, map[string]any{})
	n.sync(t)
	loads := func() float64 {
		v, _ := n.h.Root.SharedDict("kong").Get("legacy-cache-loads")
		f, _ := v.(float64)
		return f
	}
	for i := 0; i < 3; i++ {
		if code, body := n.get(t, "/lc/x?apikey=good"); code != 200 || body != "upstream /x consumer=c1" {
			t.Fatalf("good key, request %d: %d %q", i, code, body)
		}
	}
	if got := loads(); got != 1 {
		t.Errorf("loads after 3 requests with the same key: %v, want 1", got)
	}
	for i := 0; i < 2; i++ {
		if code, body := n.get(t, "/lc/x?apikey=nope"); code != 403 || body != `{"message":"Invalid authentication credentials"}`+"\n" {
			t.Errorf("unknown key: %d %q", code, body)
		}
	}
	if got := loads(); got != 3 {
		t.Errorf("loads: %v, want 3 (a nil result is not cached)", got)
	}
	for i := 0; i < 2; i++ {
		if code, body := n.get(t, "/lc/x?apikey=explode"); code != 500 || body != `{"message":"An unexpected error occurred"}`+"\n" {
			t.Errorf("loader answering 500: %d %q", code, body)
		}
	}
	if got := loads(); got != 5 {
		t.Errorf("loads: %v, want 5 (an answered request caches nothing)", got)
	}
	if !strings.Contains(n.logs.String(), "datastore down") {
		t.Errorf("the 500's message was not logged:\n%s", n.logs.String())
	}
}
