package proxy

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/router"
)

// Rebuilder keeps a router.Versioned in step with the routes and services
// in the database: Trigger (from a CRUD event) schedules a rebuild, and
// triggers arriving within Debounce of each other make one rebuild, done
// by Run's goroutine, never on the request path. A failed load is retried;
// a failed build keeps the stale router (Kong: "could not rebuild
// router"). With worker_consistency = strict the request path calls Fresh
// too, which rebuilds at once when a trigger came after the last build.
type Rebuilder struct {
	Router *router.Versioned
	// Load reads every routes and services row (all pages, all
	// workspaces).
	Load     func(ctx context.Context) (routes, services []map[string]any, err error)
	Debounce time.Duration // default 50ms
	Retry    time.Duration // after a failed load; default 1s
	// OnRebuild, when set, is told each outcome (version, error).
	OnRebuild func(version uint64, err error)
	// Options are the router's, at each build (router.WithPathHandlingV1
	// for router_flavor = traditional).
	Options []router.Option

	trig  chan struct{}
	stale Staleness
}

// NewRebuilder returns a Rebuilder; call Rebuild once, then Run.
func NewRebuilder(rt *router.Versioned, load func(ctx context.Context) (routes, services []map[string]any, err error)) *Rebuilder {
	return &Rebuilder{Router: rt, Load: load, trig: make(chan struct{}, 1)}
}

// Rebuild loads and builds now.
func (b *Rebuilder) Rebuild(ctx context.Context) (uint64, error) {
	var v uint64
	err := b.stale.Rebuild(func() (err error) {
		v, err = b.rebuild(ctx)
		return err
	})
	return v, err
}

func (b *Rebuilder) rebuild(ctx context.Context) (uint64, error) {
	routes, services, err := b.Load(ctx)
	if err != nil {
		_, v := b.Router.Load()
		return v, err
	}
	return b.Router.RebuildFromRows(routes, services, b.Options...)
}

// Fresh rebuilds now if a trigger came after the last successful build
// (Kong's get_updated_router with worker_consistency = strict); it does
// nothing otherwise. On error the stale router stays.
func (b *Rebuilder) Fresh(ctx context.Context) error {
	return b.stale.Fresh(func() error {
		_, err := b.rebuild(ctx)
		return err
	})
}

// Trigger schedules a rebuild; it never blocks.
func (b *Rebuilder) Trigger() {
	b.stale.Mark()
	select {
	case b.trig <- struct{}{}:
	default:
	}
}

// Run rebuilds on triggers until ctx is done.
func (b *Rebuilder) Run(ctx context.Context) {
	RunDebounced(ctx, b.trig, b.Debounce, b.Retry, func(ctx context.Context) error {
		v, err := b.Rebuild(ctx)
		if b.OnRebuild != nil {
			b.OnRebuild(v, err)
		}
		return err
	}, b.Trigger)
}

// Staleness tells whether a build is behind the changes announced to it:
// Mark counts a change, and a successful build records the count it
// started from. Builds are serialised; a change marked while one runs
// leaves the result stale.
type Staleness struct {
	mu      sync.Mutex
	marked  atomic.Uint64
	covered atomic.Uint64
}

// Mark records a change not yet built.
func (s *Staleness) Mark() { s.marked.Add(1) }

// Stale says whether a change was marked after the last successful build
// started.
func (s *Staleness) Stale() bool { return s.covered.Load() != s.marked.Load() }

// Rebuild runs build, serialised with the other builds; its success
// covers the changes marked before it started.
func (s *Staleness) Rebuild(build func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.build(build)
}

// Fresh runs build as Rebuild does when the result is stale, else
// nothing (also when another build made it fresh meanwhile).
func (s *Staleness) Fresh(build func() error) error {
	if !s.Stale() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Stale() {
		return nil
	}
	return s.build(build)
}

func (s *Staleness) build(build func() error) error {
	seen := s.marked.Load()
	if err := build(); err != nil {
		return err
	}
	s.covered.Store(seen)
	return nil
}

// RunDebounced runs rebuild after each trigger received on trig until ctx
// is done: triggers arriving within debounce (default 50ms) of each other
// make one rebuild, and a failed rebuild calls retrigger after retry
// (default 1s). The router's Rebuilder and the host's plugins iterator
// share it.
func RunDebounced(ctx context.Context, trig <-chan struct{}, debounce, retry time.Duration, rebuild func(context.Context) error, retrigger func()) {
	if debounce <= 0 {
		debounce = 50 * time.Millisecond
	}
	if retry <= 0 {
		retry = time.Second
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trig:
		}
		// Let a burst of writes settle into one rebuild.
		t.Reset(debounce)
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-trig:
				if !t.Stop() {
					<-t.C
				}
				t.Reset(debounce)
			case <-t.C:
				waiting = false
			}
		}
		if err := rebuild(ctx); err != nil && ctx.Err() == nil {
			time.AfterFunc(retry, retrigger)
		}
	}
}
