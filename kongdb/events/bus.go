package events

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one worker event.
type Event struct {
	Source string
	Event  string
	// Data is passed by reference. Data given to Post reaches every worker,
	// so it must be immutable and must not hold values of one Lua state
	// (the pdk serializes tables); PostLocal data may be anything.
	Data any
	// PID is the poster's worker id, or -1 when Go code posted.
	PID int
}

// A Handler is a Go subscriber. An error or a panic is logged and never
// reaches the poster.
type Handler func(ev Event) error

// BusConfig configures a Bus.
type BusConfig struct {
	Logger *slog.Logger
	// MaxQueue bounds each inbox (lua-resty-events max_queue_len, 51200).
	// Past it events are dropped and the worker is told once with an
	// Overflow event, so it can flush what it caches instead of serving
	// stale data (Kong/kong#8517).
	MaxQueue int
	// UniqueTimeout is how long a PostUnique key suppresses repeats (5 s).
	UniqueTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Overflow is the source and event of the notice an inbox delivers after it
// dropped events; its Data is the number dropped.
const (
	OverflowSource = "luahost"
	OverflowEvent  = "inbox_overflow"
)

// Bus is the node's worker-event bus. All methods are safe for concurrent
// use.
type Bus struct {
	cfg BusConfig
	log *slog.Logger

	// postMu serializes fan-out so every inbox sees one order of events.
	postMu  sync.Mutex
	inboxes atomic.Pointer[[]*Inbox]
	rr      int // round robin for PostUnique, guarded by postMu

	subMu  sync.Mutex
	subSeq int
	subs   atomic.Pointer[[]*subscription]

	uniqMu sync.Mutex
	uniq   map[string]time.Time
	// uniqQ holds the unique keys in posting order. One timeout for all
	// makes it expiry order too, so expired keys leave from its head: O(1)
	// amortised per post, where a walk of every key posted in the last
	// UniqueTimeout made each Go-side write cost ~300 µs at steady state.
	uniqQ    []uniqEntry
	uniqHead int
}

type uniqEntry struct {
	key   string
	until time.Time
}

type subscription struct {
	id     int
	source string          // "" = every source
	events map[string]bool // nil = every event of source
	h      Handler
}

func (s *subscription) matches(source, event string) bool {
	if s.source != "" && s.source != source {
		return false
	}
	return s.events == nil || s.events[event]
}

// NewBus returns a bus.
func NewBus(cfg BusConfig) *Bus {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 51200
	}
	if cfg.UniqueTimeout <= 0 {
		cfg.UniqueTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, uniq: map[string]time.Time{}}
	b.inboxes.Store(&[]*Inbox{})
	b.subs.Store(&[]*subscription{})
	return b
}

// Register subscribes a Go handler to events of source ("" = all sources)
// named in events (none = all events of source), like
// kong.worker_events.register(callback, source, event1, ...). Go handlers
// see every event once, whichever worker posted it, synchronously in the
// poster's goroutine after the event is queued for the workers. It returns
// the id for Unregister.
func (b *Bus) Register(h Handler, source string, events ...string) int {
	s := &subscription{source: source, h: h}
	if len(events) > 0 {
		s.events = make(map[string]bool, len(events))
		for _, e := range events {
			s.events[e] = true
		}
	}
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.subSeq++
	s.id = b.subSeq
	next := append(append([]*subscription(nil), *b.subs.Load()...), s)
	b.subs.Store(&next)
	return s.id
}

// Unregister removes a Go handler; it reports whether id was registered.
func (b *Bus) Unregister(id int) bool {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	cur := *b.subs.Load()
	next := make([]*subscription, 0, len(cur))
	found := false
	for _, s := range cur {
		if s.id == id {
			found = true
			continue
		}
		next = append(next, s)
	}
	b.subs.Store(&next)
	return found
}

// ErrBadEvent reports an empty source or event name.
var ErrBadEvent = errors.New("source and event are required")

// Post delivers an event to every worker of the node, the poster included
// (kong.worker_events.post), and to the Go handlers. pid is the posting
// worker's id (-1 from Go code).
func (b *Bus) Post(pid int, source, event string, data any) error {
	if source == "" || event == "" {
		return ErrBadEvent
	}
	ev := Event{Source: source, Event: event, Data: data, PID: pid}
	b.postMu.Lock()
	for _, in := range *b.inboxes.Load() {
		in.push(ev)
	}
	b.postMu.Unlock()
	b.dispatch(ev)
	return nil
}

// PostLocal delivers an event to one worker only (kong.worker_events.
// post_local from worker workerID) and to the Go handlers; data may be
// anything, it is passed by reference. A worker id with no inbox reaches
// the Go handlers only.
func (b *Bus) PostLocal(workerID int, source, event string, data any) error {
	if source == "" || event == "" {
		return ErrBadEvent
	}
	ev := Event{Source: source, Event: event, Data: data, PID: -1}
	for _, in := range *b.inboxes.Load() {
		if in.WorkerID == workerID {
			in.push(ev)
			break
		}
	}
	b.dispatch(ev)
	return nil
}

// PostUnique delivers an event to one worker only, and drops repeats of
// the same unique key for UniqueTimeout (post with `unique`). Go handlers
// see it once. It reports whether the event was delivered.
func (b *Bus) PostUnique(pid int, source, event string, data any, unique string) (bool, error) {
	if source == "" || event == "" {
		return false, ErrBadEvent
	}
	now := b.cfg.Now()
	b.uniqMu.Lock()
	if until, ok := b.uniq[unique]; ok && now.Before(until) {
		b.uniqMu.Unlock()
		return false, nil
	}
	b.expireUnique(now)
	until := now.Add(b.cfg.UniqueTimeout)
	b.uniq[unique] = until
	b.uniqQ = append(b.uniqQ, uniqEntry{unique, until})
	b.uniqMu.Unlock()
	ev := Event{Source: source, Event: event, Data: data, PID: pid}
	b.postMu.Lock()
	if ins := *b.inboxes.Load(); len(ins) > 0 {
		b.rr = (b.rr + 1) % len(ins)
		ins[b.rr].push(ev)
	}
	b.postMu.Unlock()
	b.dispatch(ev)
	return true, nil
}

// expireUnique drops the keys expired at now from the head of the queue
// (caller holds uniqMu). A key posted again after it expired has a newer
// entry further back; the map entry goes only with its own.
func (b *Bus) expireUnique(now time.Time) {
	q := b.uniqQ
	h := b.uniqHead
	for h < len(q) && !now.Before(q[h].until) {
		if until, ok := b.uniq[q[h].key]; ok && until.Equal(q[h].until) {
			delete(b.uniq, q[h].key)
		}
		q[h] = uniqEntry{}
		h++
	}
	if h == len(q) {
		q, h = q[:0], 0
	} else if h > 1024 && h > len(q)/2 {
		n := copy(q, q[h:])
		clear(q[n:])
		q, h = q[:n], 0
	}
	b.uniqQ, b.uniqHead = q, h
}

// dispatch runs the Go handlers, containing their failures.
func (b *Bus) dispatch(ev Event) {
	for _, s := range *b.subs.Load() {
		if s.matches(ev.Source, ev.Event) {
			b.call(s.h, ev)
		}
	}
}

func (b *Bus) call(h Handler, ev Event) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("worker event handler panicked", "source", ev.Source, "event", ev.Event,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	if err := h(ev); err != nil {
		b.log.Error("worker event handler failed", "source", ev.Source, "event", ev.Event, "err", err)
	}
}

// NewInbox creates the inbox of worker workerID; it receives every Post
// from now on until Close.
func (b *Bus) NewInbox(workerID int) *Inbox {
	in := &Inbox{bus: b, WorkerID: workerID, ready: make(chan struct{}, 1)}
	b.postMu.Lock()
	next := append(append([]*Inbox(nil), *b.inboxes.Load()...), in)
	b.inboxes.Store(&next)
	b.postMu.Unlock()
	return in
}

func (b *Bus) removeInbox(in *Inbox) {
	b.postMu.Lock()
	defer b.postMu.Unlock()
	cur := *b.inboxes.Load()
	next := make([]*Inbox, 0, len(cur))
	for _, x := range cur {
		if x != in {
			next = append(next, x)
		}
	}
	b.inboxes.Store(&next)
}

// Workers is the number of inboxes attached.
func (b *Bus) Workers() int { return len(*b.inboxes.Load()) }
