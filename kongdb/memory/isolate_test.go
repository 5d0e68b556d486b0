package memory_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/schema"
)

// Writes inside Isolated are invisible to other readers until it returns
// (reads, updates, deletes, by key, by unique field and by page), visible
// to reads with its context, and a write from outside waits for the end.
func TestIsolated(t *testing.T) {
	s := &schema.Schema{Name: "things", PrimaryKey: []string{"id"}, Fields: []*schema.Field{
		uuidField(), {Name: "name", Type: schema.TypeString, Unique: true},
	}}
	db := newDB(t, s)
	d := db.DAO("things")
	a, err := d.Insert(ctx, M{"name": "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ctx context.Context) string {
		rows, _, err := d.Page(ctx, 100, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range rows {
			out += r["name"].(string)
		}
		return out
	}
	conn := db.Connector().(*memory.Connector)
	outside := make(chan error, 1)
	boom := errors.New("boom")
	err = conn.Isolated(ctx, func(ictx context.Context) error {
		if _, err := d.Insert(ictx, M{"name": "b"}, nil); err != nil {
			return err
		}
		if _, err := d.Update(ictx, M{"id": a["id"]}, M{"name": "a2"}, nil); err != nil {
			return err
		}
		if got := names(ictx); len(got) != 3 {
			t.Errorf("inside: %q", got)
		}
		if got := names(ctx); got != "a" {
			t.Errorf("outside, during: %q", got)
		}
		if r, _ := d.SelectBy(ctx, "name", "a", nil); r == nil {
			t.Error("outside, by unique field: the old row is gone")
		}
		if r, _ := d.Select(ctx, M{"id": a["id"]}, nil); r == nil || r["name"] != "a" {
			t.Errorf("outside, by key: %v", r)
		}
		go func() {
			_, err := d.Insert(ctx, M{"name": "c"}, nil)
			outside <- err
		}()
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Isolated returned %v", err)
	}
	if err := <-outside; err != nil {
		t.Fatal(err)
	}
	if r, _ := d.SelectBy(ctx, "name", "a2", nil); r == nil {
		t.Error("after: the isolated update is not visible")
	}
	if got := names(ctx); len(got) != 4 {
		t.Errorf("after: %q", got)
	}
}

// The foreign fields' indexes are part of the frozen view too: a reader
// outside an isolated write pages the children of a parent as they were
// while the write moves, nulls and cascades them (and a child whose two
// foreign fields are nulled by one delete loses both).
func TestIsolatedForeignIndex(t *testing.T) {
	ps := &schema.Schema{Name: "parents", PrimaryKey: []string{"id"}, Fields: []*schema.Field{uuidField()}}
	cs := &schema.Schema{Name: "children", PrimaryKey: []string{"id"}, Fields: []*schema.Field{
		uuidField(), {Name: "name", Type: schema.TypeString},
		{Name: "p", Type: schema.TypeForeign, Reference: "parents", OnDelete: "cascade"},
		{Name: "q", Type: schema.TypeForeign, Reference: "parents", OnDelete: "null"},
		{Name: "r", Type: schema.TypeForeign, Reference: "parents", OnDelete: "null"},
	}}
	db := newDB(t, ps, cs)
	pd, cd := db.DAO("parents"), db.DAO("children")
	p1, err := pd.Insert(ctx, M{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := pd.Insert(ctx, M{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := func(p M) M { return M{"id": p["id"]} }
	a, err := cd.Insert(ctx, M{"name": "a", "p": ref(p1), "q": ref(p2), "r": ref(p2)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cd.Insert(ctx, M{"name": "b", "p": ref(p2)}, nil); err != nil {
		t.Fatal(err)
	}
	names := func(ctx context.Context, fk string, p M) string {
		t.Helper()
		rows, _, err := cd.PageFor(ctx, fk, ref(p), nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range rows {
			out += r["name"].(string)
		}
		return out
	}
	conn := db.Connector().(*memory.Connector)
	err = conn.Isolated(ctx, func(ictx context.Context) error {
		if _, err := cd.Update(ictx, M{"id": a["id"]}, M{"name": "a2", "p": ref(p2)}, nil); err != nil {
			return err
		}
		if _, err := cd.Insert(ictx, M{"name": "c", "p": ref(p1)}, nil); err != nil {
			return err
		}
		if got := names(ictx, "p", p1); got != "c" {
			t.Errorf("inside, p1: %q", got)
		}
		if got := names(ctx, "p", p1); got != "a" {
			t.Errorf("outside, p1: %q", got)
		}
		if _, err := pd.Delete(ictx, M{"id": p2["id"]}, nil); err != nil { // cascades to a2 and b
			return err
		}
		if got := names(ctx, "p", p2); got != "b" {
			t.Errorf("outside, p2 after its delete: %q", got)
		}
		if got := names(ctx, "q", p2) + names(ctx, "r", p2); got != "aa" {
			t.Errorf("outside, q and r: %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ctx, "p", p1) + "|" + names(ctx, "p", p2); got != "c|" {
		t.Errorf("after: %q", got)
	}

	// a delete nulling two fields of one row (outside any isolation)
	p3, err := pd.Insert(ctx, M{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := cd.Insert(ctx, M{"name": "d", "p": ref(p1), "q": ref(p3), "r": ref(p3)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pd.Delete(ctx, M{"id": p3["id"]}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := cd.Select(ctx, M{"id": d["id"]}, M{"nulls": true})
	if err != nil || got == nil {
		t.Fatal(got, err)
	}
	if got["q"] != schema.Null || got["r"] != schema.Null {
		t.Errorf("q, r after their parent's delete: %v, %v", got["q"], got["r"])
	}
}

// BenchmarkIsolatedFreeze is what starting an isolated write costs with
// 10^5 consumers and 10^5 credentials stored: the frozen copies of every
// table's maps and orders (time per op, and bytes copied per stored row).
func BenchmarkIsolatedFreeze(b *testing.B) {
	const n = 100_000
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	if _, err := db.Register(credentialSchema()); err != nil {
		b.Fatal(err)
	}
	cd, kd := db.DAO("consumers"), db.DAO("keyauth_credentials")
	for i := 0; i < n; i++ {
		s := strconv.Itoa(i)
		r, err := cd.Insert(ctx, M{"username": "user" + s, "custom_id": "cust" + s}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kd.Insert(ctx, M{"consumer": M{"id": r["id"]}, "key": "key-" + s}, nil); err != nil {
			b.Fatal(err)
		}
	}
	conn := db.Connector().(*memory.Connector)
	noop := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.ResetTimer()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		if err := conn.Isolated(ctx, noop); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/(2*n), "B/row")
}
