package events

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// An Inbox is one worker's queue of events. Posts from any goroutine append
// to it; the worker drains it (in order) before it runs Lua, or when Ready
// fires while it is idle.
type Inbox struct {
	bus      *Bus
	WorkerID int

	mu      sync.Mutex
	q       []Event
	spare   []Event
	dropped int
	closed  bool
	ready   chan struct{}
}

func (in *Inbox) push(ev Event) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	if len(in.q) >= in.bus.cfg.MaxQueue {
		in.dropped++
		in.mu.Unlock()
		return
	}
	in.q = append(in.q, ev)
	in.mu.Unlock()
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// Post is Bus.Post from this worker (kong.worker_events.post).
func (in *Inbox) Post(source, event string, data any) error {
	return in.bus.Post(in.WorkerID, source, event, data)
}

// PostLocal is Bus.PostLocal for this worker (kong.worker_events.post_local).
func (in *Inbox) PostLocal(source, event string, data any) error {
	return in.bus.PostLocal(in.WorkerID, source, event, data)
}

// Ready fires (capacity one, coalesced) when events are waiting.
func (in *Inbox) Ready() <-chan struct{} { return in.ready }

// Len is the number of waiting events.
func (in *Inbox) Len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.q)
}

// Drain runs fn for every waiting event in order, including events posted
// by fn itself, and returns how many ran. If events were dropped because
// the inbox was full, fn first gets one Event{OverflowSource,
// OverflowEvent, Data: <count>}. A panic in fn is logged and draining goes
// on. Call it from the worker's goroutine only.
func (in *Inbox) Drain(fn func(Event)) int {
	n := 0
	for {
		in.mu.Lock()
		batch, dropped := in.q, in.dropped
		if len(batch) == 0 && dropped == 0 {
			in.mu.Unlock()
			return n
		}
		in.q, in.spare, in.dropped = in.spare[:0], nil, 0
		in.mu.Unlock()
		if dropped > 0 {
			in.run(fn, Event{Source: OverflowSource, Event: OverflowEvent, Data: dropped, PID: -1})
			n++
		}
		for i := range batch {
			in.run(fn, batch[i])
			batch[i] = Event{} // drop references
			n++
		}
		in.mu.Lock()
		if in.spare == nil {
			in.spare = batch[:0]
		}
		in.mu.Unlock()
	}
}

func (in *Inbox) run(fn func(Event), ev Event) {
	defer func() {
		if p := recover(); p != nil {
			in.bus.log.Error("worker event handler panicked", "worker", in.WorkerID,
				"source", ev.Source, "event", ev.Event, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	fn(ev)
}

// Close detaches the inbox from the bus; waiting events are discarded.
func (in *Inbox) Close() {
	in.bus.removeInbox(in)
	in.mu.Lock()
	in.closed = true
	in.q = nil
	in.mu.Unlock()
}
