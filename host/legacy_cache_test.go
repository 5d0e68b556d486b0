package host

import (
	"context"
	"fmt"
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

// database_cache's values and raw values are the node's: what one worker
// sets, replaces or deletes, another sees at once, its L1 included.
func TestLegacyDatabaseCacheAcrossWorkers(t *testing.T) {
	c := testConf(t, "testdata/legacy")
	c.Set("worker_min", "2", "test")
	c.Set("worker_max", "2", "test")
	h := newTestHost(t, c)
	w1, err := h.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Pool.Release(w1)
	w2, err := h.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Pool.Release(w2)
	if w1 == w2 {
		t.Fatal("one worker twice")
	}
	const prelude = `local cache = require "kong.tools.database_cache"
local function expect(want, got, what)
  if want ~= got then error(what .. ": " .. tostring(got) .. ", want " .. tostring(want)) end
end
`
	for i, step := range []struct {
		w   *Worker
		src string
	}{
		{w1, `assert(cache.set("x:k", "one")); expect("one", cache.get("x:k"), "w1 get")`},
		{w2, `expect("one", cache.get("x:k"), "w2 get"); assert(cache.set("x:k", "two"))`},
		{w1, `expect("two", cache.get("x:k"), "w1 get after w2's set")`},
		{w2, `cache.delete("x:k")`},
		{w1, `expect(nil, cache.get("x:k"), "w1 get after w2's delete")`},
		{w1, `expect("v", cache.get_or_set("x:g", nil, function() return "v" end), "w1 get_or_set")`},
		{w2, `expect("v", cache.get_or_set("x:g", nil, function() return "other" end), "w2 get_or_set")`},
		{w1, `assert(cache.rawset("x:n", 0))`},
		{w2, `expect(5, (cache.incr("x:n", 5)), "w2 incr")`},
		{w1, `expect(5, (cache.rawget("x:n")), "w1 rawget")`},
		{w2, `cache.delete_all()`},
		{w1, `expect(nil, cache.get("x:g"), "w1 get after delete_all"); expect(nil, cache.rawget("x:n"), "w1 rawget after delete_all")`},
	} {
		if err := step.w.DoString(fmt.Sprintf("step%d.lua", i+1), prelude+step.src); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
}
