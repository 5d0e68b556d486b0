package events

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// MemoryHub is an in-process cluster_events table for the memory strategy
// (database = off): ClusterEvents instances on one hub behave as nodes on
// one database, with rows delivered at once (as with NOTIFY) and by polling.
type MemoryHub struct {
	mu        sync.Mutex
	now       func() time.Time
	rows      []memRow
	listeners map[int]*memListener
	seq       int
}

// memListener is one instance's notification queue; a full queue falls
// back to a poll, as a lost notification does with postgres.
type memListener struct {
	ch   chan row
	poll func()
}

type memRow struct {
	row
	expireAt time.Time
}

// NewMemoryHub returns an empty hub; now is its clock (nil = time.Now).
func NewMemoryHub(now func() time.Time) *MemoryHub {
	if now == nil {
		now = time.Now
	}
	return &MemoryHub{now: now, listeners: map[int]*memListener{}}
}

// NewMemory returns cluster events on hub.
func NewMemory(ctx context.Context, hub *MemoryHub, cfg ClusterConfig) (*ClusterEvents, error) {
	return newClusterEvents(ctx, &memStore{hub: hub}, cfg)
}

type memStore struct{ hub *MemoryHub }

func (s *memStore) insert(ctx context.Context, tx DB, r *row, delay, ttl time.Duration) error {
	if tx != nil {
		return errors.New("the memory strategy has no transactions")
	}
	h := s.hub
	h.mu.Lock()
	now := h.now()
	r.At = now
	if delay > 0 {
		r.Nbf = now.Add(delay)
		r.Delay = delay
	}
	// Rows are in insertion order and expire roughly in it: drop the
	// expired head.
	i := 0
	for i < len(h.rows) && !now.Before(h.rows[i].expireAt) {
		i++
	}
	if i > 0 {
		h.rows = append(h.rows[:0], h.rows[i:]...)
	}
	h.rows = append(h.rows, memRow{row: *r, expireAt: now.Add(ttl)})
	for _, l := range h.listeners {
		select {
		case l.ch <- *r:
		default:
			l.poll()
		}
	}
	h.mu.Unlock()
	return nil
}

func (s *memStore) serverTime(ctx context.Context) (time.Time, error) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.hub.now(), nil
}

func (s *memStore) page(ctx context.Context, channels []string, minAt time.Time, offset int) ([]row, time.Time, error) {
	h := s.hub
	h.mu.Lock()
	now := h.now()
	var out []row
	for _, x := range h.rows {
		if x.At.After(minAt) && !x.At.After(now) && slices.Contains(channels, x.Channel) {
			out = append(out, x.row)
		}
	}
	h.mu.Unlock()
	slices.SortStableFunc(out, func(a, b row) int { return a.At.Compare(b.At) })
	if offset >= len(out) {
		return nil, now, nil
	}
	out = out[offset:]
	if len(out) > pageSize {
		out = out[:pageSize]
	}
	return out, now, nil
}

func (s *memStore) listen(ctx context.Context, deliver func(r row), poll func()) {
	h := s.hub
	h.mu.Lock()
	h.seq++
	id := h.seq
	l := &memListener{ch: make(chan row, 1024), poll: poll}
	h.listeners[id] = l
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.listeners, id)
		h.mu.Unlock()
	}()
	poll() // rows written before we listened
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-l.ch:
			deliver(r)
		}
	}
}
