package host

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Close wakes every goroutine waiting in Acquire with ErrPoolClosed, and
// the worker they were waiting for is closed when it comes back.
func TestPoolCloseWakesWaiters(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("plugins", "runaway", "test")
	c.Set("worker_max", "1", "test")
	h := newTestHost(t, c)
	ctx := context.Background()
	held, err := h.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			w, err := h.Pool.Acquire(ctx)
			if err == nil {
				h.Pool.Release(w)
			}
			errs <- err
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.Pool.Stat().Waiting != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiters never blocked: %+v", h.Pool.Stat())
		}
		time.Sleep(time.Millisecond) // polling interval
	}
	h.Pool.Close()
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrPoolClosed) {
				t.Fatalf("waiter %d: %v", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a waiter was never woken by Close")
		}
	}
	h.Pool.Release(held)
	if st := h.Pool.Stat(); st.Total != 0 || st.Idle != 0 {
		t.Fatalf("workers left after Close and release: %+v", st)
	}
	if _, err := h.Pool.Acquire(ctx); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Acquire after Close: %v", err)
	}
}

// Workers released while Close runs are closed, not left in the idle set:
// after Close and every release, no worker remains.
func TestPoolReleaseDuringClose(t *testing.T) {
	for i := 0; i < 5; i++ {
		c := testConf(t, "testdata/good")
		c.Set("plugins", "runaway", "test")
		c.Set("worker_max", "4", "test")
		h := newTestHost(t, c)
		ctx := context.Background()
		var ws []*Worker
		for j := 0; j < 4; j++ {
			w, err := h.Pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ws = append(ws, w)
		}
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Add(1)
			go func(w *Worker) { defer wg.Done(); h.Pool.Release(w) }(w)
		}
		h.Pool.Close()
		wg.Wait()
		if st := h.Pool.Stat(); st.Total != 0 || st.Idle != 0 {
			t.Fatalf("round %d: workers leaked by Close: %+v", i, st)
		}
	}
}
