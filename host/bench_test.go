package host

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkNewWorker: one worker with every plugin of plugins/ loaded and
// init_worker run, with the compiled-chunk cache (the default) and without.
func BenchmarkNewWorker(b *testing.B) {
	for _, tc := range []struct {
		name    string
		noCache bool
	}{{"proto-cache", false}, {"no-cache", true}} {
		b.Run(tc.name, func(b *testing.B) {
			c := testConf(b, "../plugins")
			h, err := New(Options{Conf: c, Logger: quietLogger(), NoProtoCache: tc.noCache})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			b.ReportAllocs()
			for b.Loop() {
				w, _, errs := h.newWorker(1, false)
				if len(errs) > 0 {
					b.Fatal(errs[0])
				}
				w.Close()
			}
		})
	}
}

// BenchmarkWorkerMemory reports the heap one live worker holds.
func BenchmarkWorkerMemory(b *testing.B) {
	c := testConf(b, "../plugins")
	h, err := New(Options{Conf: c, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	const n = 20
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		ws := make([]*Worker, 0, n)
		for i := 0; i < n; i++ {
			w, _, errs := h.newWorker(1, false)
			if len(errs) > 0 {
				b.Fatal(errs[0])
			}
			ws = append(ws, w)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/worker")
		for _, w := range ws {
			w.Close()
		}
	}
}

// BenchmarkRunPhase: one handler phase call through the worker, with its
// deadline armed (the per-call cost every plugin phase pays).
func BenchmarkRunPhase(b *testing.B) {
	h := runawayHost(b)
	w, err := h.Pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer h.Pool.Release(w)
	conf := w.L.NewTable()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.RunPhase("runaway", "access", conf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAcquireRelease: borrowing and returning a worker.
func BenchmarkAcquireRelease(b *testing.B) {
	h := runawayHost(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w, err := h.Pool.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		h.Pool.Release(w)
	}
}

// runawayHost is a host with only the runaway fixture plugin.
func runawayHost(b *testing.B) *Host {
	c := testConf(b, "testdata/good")
	c.Set("plugins", "runaway", "test")
	return newTestHost(b, c)
}
