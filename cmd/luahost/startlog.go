package main

import (
	"context"
	"log/slog"
	"sync"
)

// startupHandler holds log records while the host starts: if the start
// fails, the one error line says why and the held records (typically the
// consequences, such as cluster events polling a database that is not
// bootstrapped yet) are dropped; once started, they are written and
// records pass straight through.
type startupHandler struct {
	next  slog.Handler
	state *startupState
}

type startupState struct {
	mu      sync.Mutex
	holding bool
	held    []heldRecord
}

type heldRecord struct {
	h slog.Handler
	r slog.Record
}

func newStartupHandler(next slog.Handler) *startupHandler {
	return &startupHandler{next: next, state: &startupState{holding: true}}
}

func (h *startupHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *startupHandler) Handle(ctx context.Context, r slog.Record) error {
	s := h.state
	s.mu.Lock()
	if s.holding {
		s.held = append(s.held, heldRecord{h.next, r.Clone()})
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return h.next.Handle(ctx, r)
}

func (h *startupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &startupHandler{next: h.next.WithAttrs(as), state: h.state}
}

func (h *startupHandler) WithGroup(name string) slog.Handler {
	return &startupHandler{next: h.next.WithGroup(name), state: h.state}
}

// release ends holding: flush writes the held records, otherwise they are
// dropped.
func (h *startupHandler) release(flush bool) {
	s := h.state
	s.mu.Lock()
	held := s.held
	s.held, s.holding = nil, false
	s.mu.Unlock()
	if flush {
		for _, hr := range held {
			_ = hr.h.Handle(context.Background(), hr.r)
		}
	}
}
