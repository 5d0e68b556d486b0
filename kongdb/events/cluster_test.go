package events

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// recorder collects callback data.
type recorder struct {
	mu  sync.Mutex
	got []string
	ch  chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 100)} }

func (r *recorder) cb(data string) {
	r.mu.Lock()
	r.got = append(r.got, data)
	r.mu.Unlock()
	r.ch <- data
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// await waits for the next delivery, failing after d.
func (r *recorder) await(t *testing.T, d time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case s := <-r.ch:
		return s, time.Since(start)
	case <-time.After(d):
		t.Fatalf("nothing delivered within %v", d)
		return "", 0
	}
}

// none asserts nothing has been delivered. Poll delivers synchronously, so
// after a Poll returns this is exact; no wait can prove an absence.
func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case s := <-r.ch:
		t.Fatalf("unexpected delivery %q", s)
	default:
	}
}

func memNodes(t *testing.T, cfg ClusterConfig) (a, b *ClusterEvents) {
	t.Helper()
	hub := NewMemoryHub(nil)
	ctx := context.Background()
	cfg.NodeID = uuid.NewString()
	a, err := NewMemory(ctx, hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NodeID = uuid.NewString()
	b, err = NewMemory(ctx, hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	return a, b
}

func TestMemoryClusterEvents(t *testing.T) {
	a, b := memNodes(t, ClusterConfig{PollInterval: time.Hour})
	ra, rb := newRecorder(), newRecorder()
	a.Subscribe("invalidations", ra.cb)
	b.Subscribe("invalidations", rb.cb)
	if err := a.Broadcast(context.Background(), "invalidations", "consumers:alice", 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := rb.await(t, 30*time.Second); got != "consumers:alice" {
		t.Fatalf("b got %q", got)
	}
	ra.none(t)
	// A poll finds the same row again: it is not delivered twice, and a
	// poll on the sender does not deliver its own row.
	if err := b.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rb.none(t)
	ra.none(t)
	// Other channels are not delivered to this subscriber.
	a.Broadcast(context.Background(), "balancer:targets", "x", 0)
	if err := b.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rb.none(t)
	if err := a.BroadcastTx(context.Background(), fakeTx{}, "invalidations", "x", 0); err == nil ||
		err.Error() != "could not insert invalidation row: the memory strategy has no transactions" {
		t.Fatalf("BroadcastTx on memory: %v", err)
	}
}

type fakeTx struct{ DB }

func TestClusterEventsDelay(t *testing.T) {
	a, b := memNodes(t, ClusterConfig{PollInterval: time.Hour})
	rb := newRecorder()
	b.Subscribe("ch", rb.cb)
	// A fractional delay is cut to whole seconds, as Kong's %d does: the
	// event comes after one second, not before (a lower bound: a timer
	// never fires early, so this holds under any load).
	start := time.Now()
	a.Broadcast(context.Background(), "ch", "later", 1500*time.Millisecond)
	got, _ := rb.await(t, 30*time.Second)
	if got != "later" {
		t.Fatalf("got %q", got)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("delivered after %v, before its delay", d)
	}
}

func TestClusterEventsCallbackPanicIsContained(t *testing.T) {
	var logs bytes.Buffer
	a, b := memNodes(t, ClusterConfig{PollInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rb := newRecorder()
	b.Subscribe("ch", func(string) { panic("bad callback") })
	b.Subscribe("ch", rb.cb)
	a.Broadcast(context.Background(), "ch", "d", 0)
	rb.await(t, 30*time.Second)
	if !strings.Contains(logs.String(), "bad callback") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

func TestClusterEventsNodeIDMustBeUUID(t *testing.T) {
	_, err := NewMemory(context.Background(), NewMemoryHub(nil), ClusterConfig{NodeID: "node-1"})
	if err == nil || !strings.Contains(err.Error(), "not a UUID") {
		t.Fatalf("err = %v", err)
	}
}

// TestPollPages: a backlog larger than Kong's page of 1000 rows is read page
// by page, every row delivered once and in order.
func TestPollPages(t *testing.T) {
	hub := NewMemoryHub(nil)
	ctx := context.Background()
	a, _ := NewMemory(ctx, hub, ClusterConfig{NodeID: uuid.NewString(), PollInterval: time.Hour})
	b, _ := NewMemory(ctx, hub, ClusterConfig{NodeID: uuid.NewString(), PollInterval: time.Hour})
	defer a.Close()
	defer b.Close()
	const n = 2500
	for i := 0; i < n; i++ {
		if err := a.Broadcast(ctx, "ch", strconv.Itoa(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	b.Subscribe("ch", func(d string) {
		mu.Lock()
		got = append(got, d)
		if len(got) == n {
			close(done)
		}
		mu.Unlock()
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d delivered", len(got), n)
	}
	// Poll delivers synchronously: a row delivered twice would be counted
	// by the time it returns.
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("%d deliveries, want %d", len(got), n)
	}
	for i, d := range got {
		if d != strconv.Itoa(i) {
			t.Fatalf("delivery %d is %q: out of order", i, d)
		}
	}
}
