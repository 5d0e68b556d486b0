package events

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkPostDrain: one Post to a node of 4 workers, each draining it.
func BenchmarkPostDrain(b *testing.B) {
	bus := NewBus(BusConfig{})
	ins := []*Inbox{bus.NewInbox(0), bus.NewInbox(1), bus.NewInbox(2), bus.NewInbox(3)}
	fn := func(Event) {}
	b.ReportAllocs()
	for b.Loop() {
		bus.Post(0, "mlcache", "mlcache:invalidations:kong_db_cache", "consumers:alice")
		for _, in := range ins {
			in.Drain(fn)
		}
	}
}

// BenchmarkPostGoSubscriber: Post with no inboxes and one Go handler.
func BenchmarkPostGoSubscriber(b *testing.B) {
	bus := NewBus(BusConfig{})
	bus.Register(func(Event) error { return nil }, "crud", "consumers")
	b.ReportAllocs()
	for b.Loop() {
		bus.Post(-1, "crud", "consumers", nil)
	}
}

// BenchmarkNotifyRoundTrip: Broadcast on one node until the other node's
// callback runs, over PostgreSQL with NOTIFY (polling every 5 s).
func BenchmarkNotifyRoundTrip(b *testing.B) {
	pool, lc := testDB(b)
	ctx := context.Background()
	mk := func() *ClusterEvents {
		ce, err := NewPostgres(ctx, pool, lc, ClusterConfig{NodeID: uuid.NewString(), PollInterval: 5 * time.Second, Notify: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(ce.Close)
		return ce
	}
	a, c := mk(), mk()
	got := make(chan string, 1)
	c.Subscribe("invalidations", func(d string) { got <- d })
	a.Subscribe("invalidations", func(string) {})
	waitListening(b, pool, 2)
	b.ResetTimer()
	for b.Loop() {
		if err := a.Broadcast(ctx, "invalidations", "consumers:alice", 0); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// BenchmarkBroadcast: the INSERT (+ pg_notify) alone, one commit each.
func BenchmarkBroadcast(b *testing.B) {
	pool, lc := testDB(b)
	ctx := context.Background()
	for _, notify := range []bool{false, true} {
		name := "poll-only"
		if notify {
			name = "notify"
		}
		b.Run(name, func(b *testing.B) {
			ce, err := NewPostgres(ctx, pool, lc, ClusterConfig{NodeID: uuid.NewString(), Notify: notify})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := ce.Broadcast(ctx, "invalidations", "consumers:alice", 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPostUniqueSteadyState: Go-side writes post one unique key each;
// at steady state UniqueTimeout's worth of keys is live. The cost per post
// must not grow with that number (it walked all of them: ~300 µs each).
func BenchmarkPostUniqueSteadyState(b *testing.B) {
	for _, live := range []int{1000, 100000} {
		b.Run(strconv.Itoa(live), func(b *testing.B) {
			now := time.Unix(1000, 0)
			step := 5 * time.Second / time.Duration(live) // live keys within the timeout
			bus := NewBus(BusConfig{Now: func() time.Time { return now }})
			i := 0
			post := func() {
				bus.PostUnique(-1, "crud", "consumers", nil, "k"+strconv.Itoa(i))
				i++
				now = now.Add(step)
			}
			for j := 0; j < live; j++ {
				post()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				post()
			}
		})
	}
}
