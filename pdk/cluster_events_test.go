package pdk

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb/events"
)

// newNodePair returns two nodes sharing one in-process cluster_events
// table.
func newNodePair(t *testing.T) (a, b *cacheEnv) {
	t.Helper()
	hub := events.NewMemoryHub(time.Now)
	node := func() *cacheEnv {
		ce, err := events.NewMemory(context.Background(), hub, events.ClusterConfig{NodeID: uuid.NewString(), PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ce.Close)
		return newCacheEnv(t, cacheEnvOpts{cluster: ce})
	}
	return node(), node()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCacheInvalidationReachesOtherNodes(t *testing.T) {
	a, b := newNodePair(t)
	for _, n := range []*cacheEnv{a, b} {
		n.do(t, 0, loaderLua)
		n.do(t, 0, `kong.cache:get("k", nil, load, "v1"); kong.cache:get("local", nil, load, "l1"); kong.core_cache:get("c", nil, load, "c1")`)
	}
	// invalidate_local stays on its node.
	a.do(t, 0, `kong.cache:invalidate_local("local")`)
	// invalidate reaches the other node (L2 and L1), on the right cache.
	a.do(t, 0, `kong.cache:invalidate("k"); kong.core_cache:invalidate("c")`)
	waitFor(t, "the invalidation on node b", func() bool {
		r1, _ := b.root.Cache.Probe("k", nil)
		r2, _ := b.root.CoreCache.Probe("c", nil)
		return !r1.Found() && !r2.Found()
	})
	wantStr(t, "node b reloads", b.one(t, 0, `local v, _, hit = kong.cache:get("k", nil, load, "v2"); return v, hit`), "v2 3")
	wantStr(t, "core_cache too", b.one(t, 0, `local v, _, hit = kong.core_cache:get("c", nil, load, "c2"); return v, hit`), "c2 3")
	wantStr(t, "invalidate_local is node-local", b.one(t, 0, `local v, _, hit = kong.cache:get("local", nil, load, "l2"); return v, hit`), "l1 1")
}

func TestClusterEventsFromLua(t *testing.T) {
	a, b := newNodePair(t)
	b.do(t, 0, `got = {}
assert(kong.cluster_events:subscribe("my-plugin:purge", function(data) got[#got + 1] = data end))`)
	wantStr(t, "broadcast", a.one(t, 0, `return kong.cluster_events:broadcast("my-plugin:purge", "all")`), "true")
	waitFor(t, "the cluster event on node b", func() bool {
		return b.one(t, 0, `return table.concat(got, ",")`) == "all"
	})
	cases := map[string]string{
		`return kong.cluster_events:broadcast(1, "x")`:       "nil channel must be a string",
		`return kong.cluster_events:broadcast("c", {})`:      "nil data must be a string",
		`return kong.cluster_events:broadcast("c", "x", {})`: "nil delay must be a number",
	}
	for src, want := range cases {
		wantStr(t, src, a.one(t, 0, src), want)
	}
	if msg := a.fail(t, 0, `kong.cluster_events:subscribe("c", "nope")`); !strings.HasSuffix(msg, "callback must be a function") {
		t.Fatalf("subscribe: %q", msg)
	}
}
