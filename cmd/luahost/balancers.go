package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/proxy"
)

// balancers is the node's ring-balancers (package balancer), rebuilt from
// every upstream and target on their CRUD events and on other nodes'
// writes (the invalidation of their cache keys), debounced as the router.
type balancers struct {
	reg   *balancer.Registry
	h     *host.Host
	trig  chan struct{}
	stale proxy.Staleness
}

func newBalancers(h *host.Host, logger *slog.Logger) *balancers {
	return &balancers{reg: &balancer.Registry{Logger: logger}, h: h, trig: make(chan struct{}, 1)}
}

// Rebuild loads the upstreams and targets and rebuilds every balancer.
func (b *balancers) Rebuild(ctx context.Context) error {
	return b.stale.Rebuild(func() error { return b.rebuild(ctx) })
}

// Fresh rebuilds now if an upstreams or targets change came after the last
// build, else does nothing: the Admin API's health endpoints see the
// balancers of the writes answered before them, as Kong's worker sees
// them once the write's balancer event is handled.
func (b *balancers) Fresh(ctx context.Context) error {
	return b.stale.Fresh(func() error { return b.rebuild(ctx) })
}

func (b *balancers) rebuild(ctx context.Context) error {
	db := b.h.Root.DB
	ups, err := loadAll(ctx, db, "upstreams")
	if err != nil {
		return err
	}
	tgs, err := loadAll(ctx, db, "targets")
	if err != nil {
		return err
	}
	b.reg.Rebuild(ctx, ups, tgs)
	return nil
}

// Trigger schedules a rebuild; it never blocks.
func (b *balancers) Trigger() {
	b.stale.Mark()
	select {
	case b.trig <- struct{}{}:
	default:
	}
}

// Run rebuilds on triggers and refreshes DNS until ctx is done.
func (b *balancers) Run(ctx context.Context) {
	go b.reg.Run(ctx)
	proxy.RunDebounced(ctx, b.trig, 0, 0, func(ctx context.Context) error {
		err := b.Rebuild(ctx)
		if err != nil && b.h.Logger != nil {
			b.h.Logger.Error("could not rebuild the balancers (the stale ones are used)", "err", err)
		}
		return err
	}, b.Trigger)
}

// Watch triggers a rebuild on upstreams and targets CRUD events and on the
// invalidation of their cache keys; it returns the function that stops it.
func (b *balancers) Watch() func() {
	var stops []func()
	if bus := b.h.Root.Events; bus != nil {
		id := bus.Register(func(ev events.Event) error {
			if strings.HasPrefix(ev.Event, "upstreams") || strings.HasPrefix(ev.Event, "targets") {
				b.Trigger()
			}
			return nil
		}, "crud")
		stops = append(stops, func() { bus.Unregister(id) })
	}
	if cc := b.h.Root.CoreCache; cc != nil {
		stops = append(stops, cc.OnInvalidate(func(key string) {
			if strings.HasPrefix(key, "upstreams:") || strings.HasPrefix(key, "targets:") ||
				strings.HasPrefix(key, "balancer:") {
				b.Trigger()
			}
		}))
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
