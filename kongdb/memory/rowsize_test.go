package memory_test

import (
	"encoding/json"
	"runtime"
	"strconv"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/schema"
)

// credentialSchema is a plugin entity shaped like key-auth's
// keyauth_credentials: ttl, a foreign consumer, a unique key, a cache_key,
// tags.
func credentialSchema() *schema.Schema {
	return &schema.Schema{
		Name: "keyauth_credentials", PrimaryKey: []string{"id"}, CacheKey: []string{"key"},
		EndpointKey: "key", Workspaceable: true, TTL: true, DBExport: true,
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", Required: true, RequiredSet: true, OnDelete: "cascade"},
			{Name: "key", Type: schema.TypeString, Required: true, RequiredSet: true, Unique: true, Auto: true},
			{Name: "tags", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}},
		},
	}
}

// rowCost is what the embedded store's heap holds per row of a table.
type rowCost struct {
	heap    float64 // heap bytes per row (after GC)
	encoded float64 // mean JSON length of the rows as the DAO returns them
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	for i := 0; i < 2; i++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// measureRows loads n consumers {username, custom_id, tags}, then n
// credentials (one per consumer, with tags), through the DAO on the
// memory strategy, and measures the heap each load adds per row.
func measureRows(tb testing.TB, n int) (consumers, creds rowCost) {
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	if _, err := db.Register(credentialSchema()); err != nil {
		tb.Fatal(err)
	}
	cd, kd := db.DAO("consumers"), db.DAO("keyauth_credentials")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "" // the slice itself is allocated before the baseline
	}
	tags := []any{"team-a", "tier-1"}
	base := heapInUse()
	for i := 0; i < n; i++ {
		s := strconv.Itoa(i)
		r, err := cd.Insert(ctx, M{"username": "user" + s, "custom_id": "cust" + s, "tags": tags}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = r["id"].(string) // referenced by the credentials: not the store's own
	}
	mid := heapInUse()
	for i := 0; i < n; i++ {
		if _, err := kd.Insert(ctx, M{"consumer": M{"id": ids[i]}, "key": "key-" + strconv.Itoa(i), "tags": tags}, nil); err != nil {
			tb.Fatal(err)
		}
	}
	end := heapInUse()
	consumers.heap = (float64(mid) - float64(base)) / float64(n)
	creds.heap = (float64(end) - float64(mid)) / float64(n)
	consumers.encoded = meanJSON(tb, cd, n)
	creds.encoded = meanJSON(tb, kd, n)
	runtime.KeepAlive(db)
	return consumers, creds
}

// meanJSON is the mean length of the JSON encoding of the first rows of d.
func meanJSON(tb testing.TB, d *kongdb.DAO, n int) float64 {
	rows, _, err := d.Page(ctx, float64(min(n, 1000)), nil, nil)
	if err != nil || len(rows) == 0 {
		tb.Fatal(err, len(rows))
	}
	total := 0
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			tb.Fatal(err)
		}
		total += len(b)
	}
	return float64(total) / float64(len(rows))
}

// BenchmarkRowMemory reports the heap bytes per row of a small consumer
// and of a credential at 10^5 rows, beside their JSON length.
func BenchmarkRowMemory(b *testing.B) {
	for b.Loop() {
		c, k := measureRows(b, 100_000)
		b.ReportMetric(c.heap, "consumer-B/row")
		b.ReportMetric(c.encoded, "consumer-json-B")
		b.ReportMetric(k.heap, "credential-B/row")
		b.ReportMetric(k.encoded, "credential-json-B")
	}
}

// TestRowMemoryWithinTwiceEncoded: the heap a stored row costs (its
// encoding, its record and its slots in every index) stays within twice
// the row's JSON length, for a consumer and for a credential that
// references one. A size bound, measured over many rows after GC.
func TestRowMemoryWithinTwiceEncoded(t *testing.T) {
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 10_000 // the race detector makes each insert ten times dearer
	}
	c, k := measureRows(t, n)
	t.Logf("%d rows: consumer %.0f B/row (JSON %.0f B), credential %.0f B/row (JSON %.0f B)",
		n, c.heap, c.encoded, k.heap, k.encoded)
	for _, x := range []struct {
		name string
		rowCost
	}{{"consumer", c}, {"credential", k}} {
		if x.heap > 2*x.encoded {
			t.Errorf("a %s row holds %.0f heap bytes, more than twice its JSON length %.0f", x.name, x.heap, x.encoded)
		}
		if x.heap < x.encoded/4 {
			t.Errorf("a %s row holds %.0f heap bytes: the measure is broken", x.name, x.heap)
		}
	}
}
