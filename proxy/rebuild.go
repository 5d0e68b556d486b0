package proxy

import (
	"context"
	"time"

	"github.com/luahost/luahost/router"
)

// Rebuilder keeps a router.Versioned in step with the routes and services
// in the database: Trigger (from a CRUD event) schedules a rebuild, and
// triggers arriving within Debounce of each other make one rebuild, done
// by Run's goroutine, never on the request path. A failed load is retried;
// a failed build keeps the stale router (Kong: "could not rebuild
// router").
type Rebuilder struct {
	Router *router.Versioned
	// Load reads every routes and services row (all pages, all
	// workspaces).
	Load     func(ctx context.Context) (routes, services []map[string]any, err error)
	Debounce time.Duration // default 50ms
	Retry    time.Duration // after a failed load; default 1s
	// OnRebuild, when set, is told each outcome (version, error).
	OnRebuild func(version uint64, err error)

	trig chan struct{}
}

// NewRebuilder returns a Rebuilder; call Rebuild once, then Run.
func NewRebuilder(rt *router.Versioned, load func(ctx context.Context) (routes, services []map[string]any, err error)) *Rebuilder {
	return &Rebuilder{Router: rt, Load: load, trig: make(chan struct{}, 1)}
}

// Rebuild loads and builds now.
func (b *Rebuilder) Rebuild(ctx context.Context) (uint64, error) {
	routes, services, err := b.Load(ctx)
	if err != nil {
		_, v := b.Router.Load()
		return v, err
	}
	return b.Router.RebuildFromRows(routes, services)
}

// Trigger schedules a rebuild; it never blocks.
func (b *Rebuilder) Trigger() {
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
