package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb"
)

// scaleSizes are the table sizes of BenchmarkMemoryScale; 10^6 takes
// minutes and gigabytes to load, so it runs only with
// LUAHOST_BENCH_1M=1.
func scaleSizes() []int {
	sizes := []int{1_000, 10_000, 100_000}
	if os.Getenv("LUAHOST_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}

type scaleFixture struct {
	h        *host.Host
	consumer kongdb.Row // referenced by every credential
	offset   string     // a page_for_consumer offset in the middle
	n        int
}

// newScaleFixture loads n consumers and n token_credentials of one consumer
// into the embedded store, through the Go-side DAO (as the Admin API
// writes).
func newScaleFixture(b *testing.B, n int) *scaleFixture {
	c := conf.New()
	c.Set("plugins_dir", "../plugins", "bench")
	c.Set("lua_package_path", "", "bench")
	c.Set("mem_cache_size", "4m", "bench")
	c.Set("worker_max", "1", "bench")
	c.Set("database", "off", "bench")
	h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	consumers := h.Root.DB.DAO("consumers")
	creds := h.Root.DB.DAO("token_credentials")
	owner, err := consumers.Insert(ctx, map[string]any{"username": "owner"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := consumers.Insert(ctx, map[string]any{"username": "u" + strconv.Itoa(i)}, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := creds.Insert(ctx, map[string]any{"consumer": map[string]any{"id": owner["id"]},
			"key": "k" + strconv.Itoa(i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	f := &scaleFixture{h: h, consumer: owner, n: n}
	var off any
	for walked := 0; walked+1000 <= n/2; walked += 1000 {
		_, next, err := creds.PageFor(ctx, "consumer", map[string]any{"id": owner["id"]}, 1000.0, off, nil)
		if err != nil || next == "" {
			b.Fatal(err, next)
		}
		off = next
	}
	if off != nil {
		f.offset = off.(string)
	}
	return f
}

// BenchmarkMemoryScale: the embedded store at 10^3..10^5 rows (10^6 with
// LUAHOST_BENCH_1M=1), from Go: select by primary key, by unique field,
// page_for_<fk> (100 rows from the middle of n rows referencing one
// consumer), and a burst of 10^5 inserts at steady state (ns per insert,
// each one posting its crud event and invalidation).
func BenchmarkMemoryScale(b *testing.B) {
	ctx := context.Background()
	for _, n := range scaleSizes() {
		f := newScaleFixture(b, n)
		consumers := f.h.Root.DB.DAO("consumers")
		creds := f.h.Root.DB.DAO("token_credentials")
		mid, err := consumers.SelectBy(ctx, "username", "u"+strconv.Itoa(n/2), nil)
		if err != nil || mid == nil {
			b.Fatal(err)
		}
		pk := map[string]any{"id": mid["id"]}
		b.Run(fmt.Sprintf("n=%d/select_pk", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := consumers.Select(ctx, pk, nil); r == nil || err != nil {
					b.Fatal(err)
				}
			}
		})
		key := "u" + strconv.Itoa(n/3)
		b.Run(fmt.Sprintf("n=%d/select_by_unique", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := consumers.SelectBy(ctx, "username", key, nil); r == nil || err != nil {
					b.Fatal(err)
				}
			}
		})
		fk := map[string]any{"id": f.consumer["id"]}
		var off any
		if f.offset != "" {
			off = f.offset
		}
		b.Run(fmt.Sprintf("n=%d/page_for_consumer_100", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rows, _, err := creds.PageFor(ctx, "consumer", fk, 100.0, off, nil)
				if err != nil || len(rows) != 100 {
					b.Fatal(err, len(rows))
				}
			}
		})
		f.h.Close()
	}
	b.Run("write_burst_1e5", func(b *testing.B) {
		const burst = 100_000
		f := newScaleFixture(b, 0)
		defer f.h.Close()
		consumers := f.h.Root.DB.DAO("consumers")
		i := 0
		var total time.Duration
		runs := 0
		for b.Loop() {
			t0 := time.Now()
			for j := 0; j < burst; j++ {
				if _, err := consumers.Insert(ctx, map[string]any{"username": "w" + strconv.Itoa(i)}, nil); err != nil {
					b.Fatal(err)
				}
				i++
			}
			total += time.Since(t0)
			runs++
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(runs*burst), "ns/insert")
	})
}
