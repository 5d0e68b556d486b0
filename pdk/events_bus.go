package pdk

// The node's worker-event bus behind kong.worker_events: one inbox per
// worker (events posted by other goroutines wait there until the worker
// drains it, which it does before running Lua and on poll()), a queue of
// events for "any one worker" (unique posts, and CRUD events of writes made
// outside any worker, such as the Admin API's), and Go subscribers.

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/cache"
)

// UniqueTimeout is how long a unique post suppresses repeats (Kong's
// worker_events unique_timeout, 5 s).
const UniqueTimeout = 5 * time.Second

// EventBus delivers worker events between the workers of one node and to Go
// subscribers. All methods are safe for concurrent use.
type EventBus struct {
	mu      sync.Mutex
	workers []*eventsWorker
	anyQ    []*busEvent
	anyN    atomic.Int32 // len(anyQ), read without the lock
	uniques map[string]time.Time
	subs    []*goSub
	subSeq  int
	wake    chan struct{}
	now     func() time.Time
}

// busEvent is one queued event. Data crosses states encoded (the codec of
// kongdb/cache); a CRUD event carries the Go event and is turned into Lua
// by the worker that handles it.
type busEvent struct {
	source, event string
	data          []byte // encoded value; nil = no data
	crud          *kongdb.CrudEvent
	pid           int
}

type goSub struct {
	id            int
	source, event string // "" = any
	fn            func(source, event string, data any)
}

// NewEventBus returns an empty bus.
func NewEventBus() *EventBus {
	return &EventBus{uniques: map[string]time.Time{}, wake: make(chan struct{}, 1), now: time.Now}
}

// ensureBus builds Root.Events when the host did not.
func (r *Root) ensureBus() *EventBus {
	r.busOnce.Do(func() {
		if r.Events == nil {
			r.Events = NewEventBus()
		}
		if r.Now != nil {
			r.Events.now = r.Now
		}
	})
	return r.Events
}

// Waiting is signalled when an event waits for any one worker (a unique
// post, or the "crud" events of a write made outside the workers). The host
// may then drain an idle worker (Drain) so such events do not wait for the
// next request.
func (b *EventBus) Waiting() <-chan struct{} { return b.wake }

// HasWaiting reports whether an event waits for any one worker.
func (b *EventBus) HasWaiting() bool { return b.anyN.Load() > 0 }

// Subscribe registers fn for events of source and event ("" = any) posted
// on this node, from Lua or Go, broadcast or local to a worker. data is the
// value model of kongdb/schema (a decoded copy), or a *kongdb.CrudEvent for
// the "crud" events of DAO writes. fn runs in the poster's goroutine and
// must not block. It returns a function that removes the subscription.
func (b *EventBus) Subscribe(source, event string, fn func(source, event string, data any)) (remove func()) {
	b.mu.Lock()
	b.subSeq++
	s := &goSub{id: b.subSeq, source: source, event: event, fn: fn}
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, x := range b.subs {
			if x == s {
				b.subs = append(b.subs[:i:i], b.subs[i+1:]...)
				return
			}
		}
	}
}

// Post broadcasts an event from Go to every worker of the node (and to Go
// subscribers); data is a value of the value model (nil allowed).
func (b *EventBus) Post(source, event string, data any) error {
	enc, err := cache.Marshal(data)
	if err != nil {
		return err
	}
	b.broadcast(&busEvent{source: source, event: event, data: enc, pid: os.Getpid()}, nil)
	return nil
}

func (b *EventBus) matchingSubs(source, event string) []*goSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*goSub
	for _, s := range b.subs {
		if (s.source == "" || s.source == source) && (s.event == "" || s.event == event) {
			out = append(out, s)
		}
	}
	return out
}

// notifyGo runs the Go subscribers of an event; data is computed only when
// someone listens.
func (b *EventBus) notifyGo(source, event string, data func() any) {
	subs := b.matchingSubs(source, event)
	if len(subs) == 0 {
		return
	}
	v := data()
	for _, s := range subs {
		s.fn(source, event, v)
	}
}

func decodedData(ev *busEvent) func() any {
	return func() any {
		if ev.crud != nil {
			return ev.crud
		}
		if ev.data == nil {
			return nil
		}
		v, _ := cache.Unmarshal(ev.data)
		return v
	}
}

// broadcast queues ev in every worker's inbox but skip's (the poster, which
// handles it itself) and tells Go subscribers.
func (b *EventBus) broadcast(ev *busEvent, skip *eventsWorker) {
	b.mu.Lock()
	ws := b.workers
	b.mu.Unlock()
	for _, w := range ws {
		if w != skip {
			w.enqueue(ev)
		}
	}
	b.notifyGo(ev.source, ev.event, decodedData(ev))
}

// postAny queues ev for exactly one worker: the first to drain. A non-empty
// unique drops repeats posted within UniqueTimeout.
func (b *EventBus) postAny(ev *busEvent, unique string) {
	b.mu.Lock()
	if unique != "" {
		now := b.now()
		if t, ok := b.uniques[unique]; ok && now.Sub(t) < UniqueTimeout {
			b.mu.Unlock()
			return
		}
		for k, t := range b.uniques {
			if now.Sub(t) >= UniqueTimeout {
				delete(b.uniques, k)
			}
		}
		b.uniques[unique] = now
	}
	b.anyQ = append(b.anyQ, ev)
	b.anyN.Store(int32(len(b.anyQ)))
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	if ev.crud == nil {
		b.notifyGo(ev.source, ev.event, decodedData(ev))
	}
}

// takeAny pops the oldest event waiting for any one worker.
func (b *EventBus) takeAny() *busEvent {
	if b.anyN.Load() == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.anyQ) == 0 {
		return nil
	}
	ev := b.anyQ[0]
	b.anyQ[0] = nil
	b.anyQ = b.anyQ[1:]
	b.anyN.Store(int32(len(b.anyQ)))
	return ev
}

func (b *EventBus) attach(w *eventsWorker) {
	b.mu.Lock()
	b.workers = append(append([]*eventsWorker(nil), b.workers...), w)
	b.mu.Unlock()
}

func (b *EventBus) detach(w *eventsWorker) {
	b.mu.Lock()
	next := make([]*eventsWorker, 0, len(b.workers))
	for _, x := range b.workers {
		if x != w {
			next = append(next, x)
		}
	}
	b.workers = next
	b.mu.Unlock()
}

// maxInbox bounds a worker's inbox; past it the oldest events are dropped
// (and logged), as a full lua-resty-events queue drops new ones.
const maxInbox = 51200

func (w *eventsWorker) enqueue(ev *busEvent) {
	w.mu.Lock()
	if len(w.q) >= maxInbox {
		w.q[0] = nil
		w.q = w.q[1:]
		w.dropped++
	}
	w.q = append(w.q, ev)
	w.mu.Unlock()
	w.pending.Store(true)
}

func (w *eventsWorker) take() []*busEvent {
	if !w.pending.Load() {
		return nil
	}
	w.mu.Lock()
	q := w.q
	w.q = nil
	w.pending.Store(false)
	w.mu.Unlock()
	return q
}
