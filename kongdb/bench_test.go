package kongdb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/luahost/luahost/internal/proccpu"
	"github.com/luahost/luahost/kongdb"
)

// loop runs fn b.N times (b.Loop) and reports CPU time per op.
func loop(b *testing.B, fn func()) {
	b.ReportAllocs()
	var start time.Duration
	n := 0
	for b.Loop() {
		if n == 0 {
			start = proccpu.Now()
		}
		fn()
		n++
	}
	b.ReportMetric(float64(proccpu.Now()-start)/float64(n), "cpu-ns/op")
}

func benchDB(b *testing.B, n int) (*kongdb.DB, *kongdb.DAO) {
	db, _ := memDB(b)
	c := db.DAO("consumers")
	for i := 0; i < n; i++ {
		if _, err := c.Insert(ctx, M{"username": fmt.Sprintf("user%d", i), "custom_id": fmt.Sprintf("c%d", i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	return db, c
}

// BenchmarkInsert is dao:insert of a consumer on memory (schema
// validation, auto fields, unique indexes, event-free).
func BenchmarkInsert(b *testing.B) {
	_, c := benchDB(b, 0)
	i := 0
	loop(b, func() {
		if _, err := c.Insert(ctx, M{"username": fmt.Sprintf("u%d", i)}, nil); err != nil {
			b.Fatal(err)
		}
		i++
	})
}

// BenchmarkSelectByUnique is dao:select_by_username on 10,000 consumers
// (budget: well under 2 µs).
func BenchmarkSelectByUnique(b *testing.B) {
	_, c := benchDB(b, 10000)
	loop(b, func() {
		r, err := c.SelectBy(ctx, "username", "user4242", nil)
		if err != nil || r == nil {
			b.Fatal(r, err)
		}
	})
}

// BenchmarkSelectByUniqueParallel is the same from every core.
func BenchmarkSelectByUniqueParallel(b *testing.B) {
	_, c := benchDB(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := c.SelectBy(ctx, "username", "user4242", nil); err != nil || r == nil {
				b.Fatal(r, err)
			}
		}
	})
}

// BenchmarkPage is dao:page(100) from the middle of 10,000 consumers.
func BenchmarkPage(b *testing.B) {
	_, c := benchDB(b, 10000)
	_, off, err := c.Page(ctx, 5000.0, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	loop(b, func() {
		rows, _, err := c.Page(ctx, 100.0, off, nil)
		if err != nil || len(rows) != 100 {
			b.Fatal(len(rows), err)
		}
	})
}

// BenchmarkCacheKey is dao:cache_key("abc") (the fast path).
func BenchmarkCacheKey(b *testing.B) {
	db, _ := memDB(b)
	d := db.DAO("consumers")
	loop(b, func() {
		if _, err := d.CacheKey(ctx, "abc"); err != nil {
			b.Fatal(err)
		}
	})
}
