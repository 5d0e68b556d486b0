package check

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/luahost/luahost/host"
)

// A node caches an entity twice: under a key built by hand (the handkey
// fixture's way) and under dao:cache_key(entity). After a write of the
// entity the audit lists only the hand-built key, as never invalidated
// although its entity was written.
func TestCacheAuditAtRunTime(t *testing.T) {
	c := confFor("testdata/lint")
	c.Set("plugins", "handkey", "test")
	c.Set("mem_cache_size", "2m", "test")
	h, err := host.New(host.Options{Conf: c})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	audit := NewCacheAudit(h.Root.Cache)
	defer audit.Stop()
	err = h.Pool.AcquireFunc(context.Background(), func(w *host.Worker) error {
		return w.DoString("audit_spec.lua", `
			local consumer = assert(kong.db.consumers:insert({ username = "u1" }))
			local item = assert(kong.db.handkey_items:insert({ consumer = { id = consumer.id }, name = "abc" }))
			local load = function() return item end
			assert(kong.cache:get("handkey_items:abc", nil, load))
			assert(kong.cache:get(kong.db.handkey_items:cache_key(item), nil, load))
			assert(kong.cache:get("remote-token:xyz", nil, function() return "v" end))
			assert(kong.db.handkey_items:update({ id = item.id }, { count = 2 }))
		`)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := audit.Unmatched()
	if len(got) != 2 || got[0].Key != "handkey_items:abc" || got[0].EntityWrites == 0 ||
		got[1].Key != "remote-token:xyz" || got[1].EntityWrites != 0 {
		t.Fatalf("unmatched keys: %+v", got)
	}
	var b bytes.Buffer
	audit.WriteReport(&b, 0)
	if !strings.Contains(b.String(), "never invalidated although 'handkey_items' was written") ||
		!strings.Contains(b.String(), "not invalidated yet (no write of 'remote-token' seen): remote-token:xyz") {
		t.Fatalf("report:\n%s", b.String())
	}
}
