// Package bench holds luahost's side-by-side benchmarks: a Kong behaviour
// through luahost next to the bare Go equivalent, in one run.
package bench

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/kongdb/postgres"
)

// BenchmarkSelectByUnique: kong.db.token_credentials:select_by_key(k) from
// Lua, on PostgreSQL, against the same query through raw pgx (the
// statement the strategy prepares, bound parameters, rows scanned into Go
// values), and on the embedded store.
func BenchmarkSelectByUnique(b *testing.B) {
	for _, strategy := range []string{"postgres", "off"} {
		h, w := selectHost(b, strategy)
		ctx := context.Background()
		fn := w.L.GetGlobal("bench_select")
		b.Run(strategy+"/lua-kong.db", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := w.L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
		h.Pool.Release(w)

		if pg, ok := h.Root.DB.Connector().(*postgres.Connector); ok {
			ws, err := h.Root.DB.DefaultWorkspace(ctx)
			if err != nil {
				b.Fatal(err)
			}
			const q = `SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC') AS "created_at", "consumer_id", "key", "label", "tags", "ws_id",
				FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC'))) AS "ttl"
				FROM "token_credentials" WHERE "key" = $1 AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP AT TIME ZONE 'UTC') AND "ws_id" = $2 LIMIT 1`
			pool := pg.Pool()
			raw := func() {
				rows, err := pool.Query(ctx, q, "bench-key", ws)
				if err != nil {
					b.Fatal(err)
				}
				row, err := pgx.CollectOneRow(rows, pgx.RowToMap)
				if err != nil || row["key"] != "bench-key" {
					b.Fatal(err, row)
				}
			}
			b.Run(strategy+"/raw-pgx", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					raw()
				}
			})
			// Side by side: the two alternate in one loop, so load on the
			// machine hits both alike; the ratio is what counts.
			w, err := h.Pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			fn := w.L.GetGlobal("bench_select")
			b.Run(strategy+"/interleaved", func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var tLua, tRaw, cLua, cRaw time.Duration
				n := 0
				for b.Loop() {
					c0, t0 := threadCPU(), time.Now()
					if err := w.L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
						b.Fatal(err)
					}
					c1, t1 := threadCPU(), time.Now()
					raw()
					tRaw += time.Since(t1)
					cRaw += threadCPU() - c1
					tLua += t1.Sub(t0)
					cLua += c1 - c0
					n++
				}
				b.ReportMetric(float64(tLua.Nanoseconds())/float64(n), "ns/lua-op")
				b.ReportMetric(float64(tRaw.Nanoseconds())/float64(n), "ns/pgx-op")
				b.ReportMetric(float64(tRaw)/float64(tLua), "lua-speed-vs-pgx")
				// The calling thread's CPU time per op: what the client
				// side costs, which load on a shared machine does not
				// inflate as it does the wall time.
				b.ReportMetric(float64(cLua.Nanoseconds())/float64(n), "cpu-ns/lua-op")
				b.ReportMetric(float64(cRaw.Nanoseconds())/float64(n), "cpu-ns/pgx-op")
			})
			h.Pool.Release(w)
			// The Go DAO alone against raw pgx, the same way: what the
			// Lua binding adds is the difference from interleaved.
			creds := h.Root.DB.DAO("token_credentials")
			b.Run(strategy+"/dao-interleaved", func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var tDAO, tRaw, cDAO, cRaw time.Duration
				n := 0
				for b.Loop() {
					c0, t0 := threadCPU(), time.Now()
					if r, err := creds.SelectBy(ctx, "key", "bench-key", nil); err != nil || r == nil {
						b.Fatal(err, r)
					}
					c1, t1 := threadCPU(), time.Now()
					raw()
					tRaw += time.Since(t1)
					cRaw += threadCPU() - c1
					tDAO += t1.Sub(t0)
					cDAO += c1 - c0
					n++
				}
				b.ReportMetric(float64(tDAO.Nanoseconds())/float64(n), "ns/dao-op")
				b.ReportMetric(float64(tRaw.Nanoseconds())/float64(n), "ns/pgx-op")
				b.ReportMetric(float64(tRaw)/float64(tDAO), "dao-speed-vs-pgx")
				b.ReportMetric(float64(cDAO.Nanoseconds())/float64(n), "cpu-ns/dao-op")
				b.ReportMetric(float64(cRaw.Nanoseconds())/float64(n), "cpu-ns/pgx-op")
			})
		}
		h.Close()
	}
}

// selectHost starts a host on strategy with one token credential (key
// "bench-key") and acquires a worker with bench_select() defined: the
// Lua lookup the benchmark and the allocation test time.
func selectHost(tb testing.TB, strategy string) (*host.Host, *host.Worker) {
	tb.Helper()
	c := conf.New()
	c.Set("plugins_dir", "../plugins", "bench")
	c.Set("lua_package_path", "", "bench")
	c.Set("mem_cache_size", "4m", "bench")
	c.Set("worker_max", "1", "bench")
	c.Set("database", strategy, "bench")
	if strategy == "postgres" {
		hosttest.UsePostgres(tb, c)
	}
	h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	consumer, err := h.Root.DB.DAO("consumers").Insert(ctx, map[string]any{"username": "bench"}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := h.Root.DB.DAO("token_credentials").Insert(ctx, map[string]any{
		"consumer": map[string]any{"id": consumer["id"]}, "key": "bench-key"}, nil); err != nil {
		tb.Fatal(err)
	}
	w, err := h.Pool.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.DoString("bench.lua", `
		local creds = kong.db.token_credentials
		function bench_select()
			local cred, err = creds:select_by_key("bench-key")
			if not cred then error(err or "not found") end
			return cred
		end`); err != nil {
		tb.Fatal(err)
	}
	return h, w
}

// threadCPU is the calling OS thread's CPU time (the benchmark locks its
// goroutine to its thread).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
