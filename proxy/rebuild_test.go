package proxy

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luahost/luahost/router"
)

func TestRebuilderDebouncesAndRetries(t *testing.T) {
	var loads atomic.Int32
	var failNext atomic.Bool
	rows := []map[string]any{{"id": "00000000-0000-0000-0000-000000000001", "paths": []any{"/a"}}}
	rt := &router.Versioned{}
	b := NewRebuilder(rt, func(ctx context.Context) ([]map[string]any, []map[string]any, error) {
		loads.Add(1)
		if failNext.Swap(false) {
			return nil, nil, errors.New("database away")
		}
		return rows, nil, nil
	})
	b.Debounce = 20 * time.Millisecond
	b.Retry = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	for i := 0; i < 100; i++ {
		b.Trigger()
	}
	waitUntil(t, func() bool { _, v := rt.Load(); return v == 1 })
	if n := loads.Load(); n > 3 {
		t.Errorf("100 triggers made %d loads", n)
	}
	if m := rt.Match(&router.Request{Method: "GET", URI: "/a", Scheme: "http"}); m == nil {
		t.Error("rebuilt router does not route /a")
	}
	// A failed load is retried without another trigger.
	failNext.Store(true)
	before := loads.Load()
	b.Trigger()
	waitUntil(t, func() bool { _, v := rt.Load(); return v == 2 })
	if loads.Load() < before+2 {
		t.Errorf("no retry after a failed load")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the deadline")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var _ Phases = NopPhases{}

// Fresh (worker_consistency = strict) rebuilds only after a trigger not
// yet built; a failed load leaves it stale, and the next Fresh retries.
func TestRebuilderFresh(t *testing.T) {
	var loads atomic.Int32
	var fail atomic.Bool
	paths := []any{"/a"}
	rt := &router.Versioned{}
	b := NewRebuilder(rt, func(ctx context.Context) ([]map[string]any, []map[string]any, error) {
		loads.Add(1)
		if fail.Load() {
			return nil, nil, errors.New("database away")
		}
		return []map[string]any{{"id": "00000000-0000-0000-0000-000000000001", "paths": paths}}, nil, nil
	})
	ctx := context.Background()
	if _, err := b.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Fresh(ctx); err != nil || loads.Load() != 1 {
		t.Fatalf("Fresh without a trigger: err %v, %d loads", err, loads.Load())
	}
	paths = []any{"/b"}
	b.Trigger()
	fail.Store(true)
	if err := b.Fresh(ctx); err == nil {
		t.Fatal("a failed load gave no error")
	}
	fail.Store(false)
	if err := b.Fresh(ctx); err != nil {
		t.Fatal(err)
	}
	if m := rt.Match(&router.Request{Method: "GET", URI: "/b", Scheme: "http"}); m == nil {
		t.Error("Fresh after a trigger did not rebuild")
	}
	n := loads.Load()
	if err := b.Fresh(ctx); err != nil || loads.Load() != n {
		t.Errorf("Fresh on a fresh router loaded again: err %v, %d -> %d loads", err, n, loads.Load())
	}
	// a trigger consumed by a background rebuild is fresh too
	b.Trigger()
	if _, err := b.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	n = loads.Load()
	if err := b.Fresh(ctx); err != nil || loads.Load() != n {
		t.Errorf("Fresh after a rebuild loaded again: %d -> %d loads", n, loads.Load())
	}
}
