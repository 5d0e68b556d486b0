package events

import (
	"bytes"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func drain(in *Inbox) []string {
	var got []string
	in.Drain(func(ev Event) { got = append(got, ev.Source+"/"+ev.Event) })
	return got
}

func TestPostReachesEveryWorkerInOrder(t *testing.T) {
	b := NewBus(BusConfig{})
	w1, w2 := b.NewInbox(1), b.NewInbox(2)
	if err := w1.Post("mlcache", "mlcache:invalidations:kong_db_cache", "k1"); err != nil {
		t.Fatal(err)
	}
	b.Post(-1, "balancer", "targets", nil)
	want := []string{"mlcache/mlcache:invalidations:kong_db_cache", "balancer/targets"}
	for _, in := range []*Inbox{w1, w2} {
		if got := drain(in); !reflect.DeepEqual(got, want) {
			t.Fatalf("worker %d drained %v, want %v (the poster receives its own post)", in.WorkerID, got, want)
		}
	}
	var ev Event
	w1.Post("s", "e", 42)
	w2.Drain(func(e Event) { ev = e })
	if ev.PID != 1 || ev.Data != 42 {
		t.Fatalf("event = %+v, want pid 1 and the data", ev)
	}
}

func TestPostLocalOnlyThisWorker(t *testing.T) {
	b := NewBus(BusConfig{})
	w1, w2 := b.NewInbox(1), b.NewInbox(2)
	fn := func() {} // local data may hold anything, by reference
	var goSaw int
	b.Register(func(ev Event) error { goSaw++; return nil }, "crud")
	w1.PostLocal("crud", "consumers", fn)
	if got := drain(w2); len(got) != 0 {
		t.Fatalf("worker 2 got %v", got)
	}
	var data any
	w1.Drain(func(ev Event) { data = ev.Data })
	if data == nil || goSaw != 1 {
		t.Fatalf("local event: data %v, go handlers %d", data, goSaw)
	}
}

func TestRegisterFiltersAndUnregister(t *testing.T) {
	b := NewBus(BusConfig{})
	var all, src, one []string
	rec := func(dst *[]string) Handler {
		return func(ev Event) error { *dst = append(*dst, ev.Source+"/"+ev.Event); return nil }
	}
	b.Register(rec(&all), "")
	b.Register(rec(&src), "crud")
	id := b.Register(rec(&one), "crud", "consumers:update", "consumers:delete")
	b.Post(-1, "crud", "consumers:update", nil)
	b.Post(-1, "crud", "consumers:create", nil)
	b.Post(-1, "balancer", "targets", nil)
	if len(all) != 3 || len(src) != 2 || !reflect.DeepEqual(one, []string{"crud/consumers:update"}) {
		t.Fatalf("all %v, src %v, one %v", all, src, one)
	}
	if !b.Unregister(id) || b.Unregister(id) {
		t.Fatal("Unregister result wrong")
	}
	b.Post(-1, "crud", "consumers:delete", nil)
	if len(one) != 1 {
		t.Fatal("unregistered handler still called")
	}
	if err := b.Post(-1, "", "x", nil); !errors.Is(err, ErrBadEvent) {
		t.Fatalf("empty source: %v", err)
	}
}

func TestFailingHandlersAreContained(t *testing.T) {
	var logs bytes.Buffer
	b := NewBus(BusConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	after := 0
	b.Register(func(ev Event) error { panic("handler bug") }, "s")
	b.Register(func(ev Event) error { return errors.New("handler failed") }, "s")
	b.Register(func(ev Event) error { after++; return nil }, "s")
	if err := b.Post(-1, "s", "e", nil); err != nil {
		t.Fatalf("a failing handler reached the poster: %v", err)
	}
	if after != 1 {
		t.Fatal("handlers after a failing one did not run")
	}
	if !strings.Contains(logs.String(), "handler bug") || !strings.Contains(logs.String(), "handler failed") {
		t.Fatalf("failures not logged: %s", logs.String())
	}
	in := b.NewInbox(1)
	b.Post(-1, "s", "a", nil)
	b.Post(-1, "s", "b", nil)
	ran := 0
	in.Drain(func(ev Event) {
		ran++
		if ev.Event == "a" {
			panic("lua handler bug")
		}
	})
	if ran != 2 {
		t.Fatalf("drain stopped after a panic: %d ran", ran)
	}
}

func TestDrainRunsEventsPostedByHandlers(t *testing.T) {
	b := NewBus(BusConfig{})
	in := b.NewInbox(1)
	in.PostLocal("dao:crud", "create", nil)
	var got []string
	in.Drain(func(ev Event) {
		got = append(got, ev.Source)
		if ev.Source == "dao:crud" {
			in.PostLocal("crud", "consumers", nil)
		}
	})
	if !reflect.DeepEqual(got, []string{"dao:crud", "crud"}) {
		t.Fatalf("got %v", got)
	}
}

func TestInboxOverflowIsReported(t *testing.T) {
	b := NewBus(BusConfig{MaxQueue: 3})
	in := b.NewInbox(1)
	for i := 0; i < 5; i++ {
		b.Post(-1, "mlcache", "inv", i)
	}
	var evs []Event
	in.Drain(func(ev Event) { evs = append(evs, ev) })
	if len(evs) != 4 || evs[0].Event != OverflowEvent || evs[0].Data != 2 {
		t.Fatalf("drained %+v; want an overflow notice (2 dropped) then 3 events", evs)
	}
}

func TestPostUnique(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBus(BusConfig{Now: func() time.Time { return now }})
	w1, w2 := b.NewInbox(1), b.NewInbox(2)
	ok1, _ := b.PostUnique(-1, "balancer", "healthcheck", nil, "upstream-a")
	ok2, _ := b.PostUnique(-1, "balancer", "healthcheck", nil, "upstream-a")
	if !ok1 || ok2 {
		t.Fatalf("unique: %v %v", ok1, ok2)
	}
	if n := len(drain(w1)) + len(drain(w2)); n != 1 {
		t.Fatalf("unique event reached %d workers", n)
	}
	now = now.Add(5 * time.Second)
	if ok, _ := b.PostUnique(-1, "balancer", "healthcheck", nil, "upstream-a"); !ok {
		t.Fatal("unique key not released after unique_timeout")
	}
}

// Unique keys expire in posting order: a key re-posted after expiring is
// suppressed for a full timeout again, and expired keys do not pile up.
func TestPostUniqueExpiryQueue(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBus(BusConfig{Now: func() time.Time { return now }})
	for i := 0; i < 5000; i++ {
		if ok, _ := b.PostUnique(-1, "s", "e", nil, "k"+strconv.Itoa(i)); !ok {
			t.Fatal("fresh key suppressed")
		}
		now = now.Add(time.Millisecond)
	}
	// k0 expired at 1005 s; re-posting it starts a new window.
	now = time.Unix(1005, 0)
	if ok, _ := b.PostUnique(-1, "s", "e", nil, "k0"); !ok {
		t.Fatal("expired key suppressed")
	}
	now = time.Unix(1007, 0)
	if ok, _ := b.PostUnique(-1, "s", "e", nil, "k0"); ok {
		t.Fatal("re-posted key not suppressed for its new window")
	}
	if ok, _ := b.PostUnique(-1, "s", "e", nil, "k4999"); ok {
		t.Fatal("k4999 (posted at 1004.999 s) released before 1009.999 s")
	}
	now = time.Unix(1010, 0)
	if ok, _ := b.PostUnique(-1, "s", "e", nil, "x"); !ok {
		t.Fatal("fresh key suppressed")
	}
	b.uniqMu.Lock()
	defer b.uniqMu.Unlock()
	if len(b.uniq) != 1 || len(b.uniqQ)-b.uniqHead != 1 {
		t.Fatalf("%d keys, %d queued after every other key expired", len(b.uniq), len(b.uniqQ)-b.uniqHead)
	}
}

func TestReadyAndClose(t *testing.T) {
	b := NewBus(BusConfig{})
	in := b.NewInbox(7)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-in.Ready():
		case <-time.After(2 * time.Second):
			t.Error("Ready did not fire")
		}
	}()
	b.Post(-1, "s", "e", nil)
	wg.Wait()
	in.Close()
	b.Post(-1, "s", "e", nil)
	if in.Len() != 0 || b.Workers() != 0 {
		t.Fatal("closed inbox still receives")
	}
}

func TestConcurrentPostsSameOrderEverywhere(t *testing.T) {
	b := NewBus(BusConfig{})
	ins := []*Inbox{b.NewInbox(1), b.NewInbox(2), b.NewInbox(3)}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				b.Post(g, "s", "e", g*1000+i)
			}
		}(g)
	}
	wg.Wait()
	var orders [][]any
	for _, in := range ins {
		var o []any
		in.Drain(func(ev Event) { o = append(o, ev.Data) })
		orders = append(orders, o)
	}
	if len(orders[0]) != 1600 || !reflect.DeepEqual(orders[0], orders[1]) || !reflect.DeepEqual(orders[0], orders[2]) {
		t.Fatal("workers saw different orders")
	}
}
