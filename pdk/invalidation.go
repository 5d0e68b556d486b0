package pdk

// Automatic cache invalidation (KONG-REFERENCE §2.8): the kongdb
// EventHandler of a node, doing what Kong's runloop "dao:crud" handler does
// for every DAO write: invalidate the entity's cache_key (new and old) in
// kong.cache or kong.core_cache (L2, every worker's L1, other nodes), then
// post the "crud" worker events "<name>" and "<name>:<op>" with
// { operation, entity, old_entity, schema }.

import (
	"context"
	"errors"
	"fmt"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/kongdb/schema"
)

// coreCacheEntities are the entities Kong caches in kong.core_cache
// (constants.ENTITY_CACHE_STORE); every other entity uses kong.cache.
var coreCacheEntities = map[string]bool{
	"certificates": true, "services": true, "routes": true, "snis": true, "upstreams": true,
	"targets": true, "plugins": true, "ca_certificates": true, "vaults": true, "key_sets": true, "keys": true,
}

// CacheFor returns the cache that holds entity name: Root.CoreCache for
// Kong's core routing entities, Root.Cache for everything else.
func (r *Root) CacheFor(name string) *cache.Cache {
	r.ensureCaches()
	if coreCacheEntities[name] {
		return r.CoreCache
	}
	return r.Cache
}

// InstallInvalidation makes r.DB's writes invalidate the caches and post
// "crud" worker events: it sets the DB's event handler (CrudHandler). The
// host calls it once, after setting Root.DB (and Root.Cache / CoreCache /
// Events when it builds them itself).
func (r *Root) InstallInvalidation() {
	if r.DB == nil {
		return
	}
	r.DB.SetEventHandler(r.CrudHandler())
}

// CrudHandler returns the node's kongdb.EventHandler (see
// InstallInvalidation), for hosts that combine it with handlers of their
// own.
func (r *Root) CrudHandler() kongdb.EventHandler {
	r.ensureCaches()
	r.ensureBus()
	return crudHandler{r: r}
}

type crudHandler struct{ r *Root }

// PostCrudEvent implements kongdb.EventHandler. The invalidation is done
// before the DAO call returns. The "crud" events run in the worker that
// made the write, before its DAO call returns (as lua-resty-worker-events
// did); a write made outside any worker (Admin API) hands them to one
// worker's inbox (the bus's PostUnique). Go handlers of the bus see
// "crud"/"<name>" and "crud"/"<name>:<op>" with the *kongdb.CrudEvent.
func (h crudHandler) PostCrudEvent(ctx context.Context, ev *kongdb.CrudEvent) error {
	r := h.r
	if ev == nil || ev.Schema == nil {
		return nil
	}
	// The write is done: a failed invalidation must not stop the events,
	// but it is returned (the DAO logs it) instead of being dropped.
	ierr := r.invalidateEntity(ctx, ev)
	if ierr != nil {
		ierr = fmt.Errorf("[DB cache] failed to invalidate %s: %w", ev.Schema.Name, ierr)
	}

	bus := r.Events
	ch := crudChannel(ev)
	if in := workerOf(ctx, r); in != nil && in.events != nil {
		in.events.deliverCrud(ev)
		in.events.dispatchDaoCrud(ev)
		_ = bus.PostLocal(noWorker, "crud", ch, ev) // Go handlers
	} else if _, err := bus.PostUnique(-1, "crud", ch, ev, nextCrudUnique()); err != nil {
		return errors.Join(ierr, err)
	}
	return errors.Join(ierr, bus.PostLocal(noWorker, "crud", ch+":"+ev.Operation, ev)) // Go handlers
}

// PreCommit implements kongdb.PreCommitter: inside the write's
// transaction, the invalidations go to other nodes (cluster_events rows
// that commit with the write); after commit, PostCrudEvent drops the keys
// locally and posts the worker events.
func (h crudHandler) PreCommit(ctx context.Context, ev *kongdb.CrudEvent) error {
	if ev == nil || ev.Schema == nil {
		return nil
	}
	return h.r.invalidateEntity(ctx, ev)
}

// invalidateEntity invalidates the entity's cache_key (new and old) in its
// store, and Kong's built-in extra keys.
func (r *Root) invalidateEntity(ctx context.Context, ev *kongdb.CrudEvent) error {
	name := ev.Schema.Name
	store := r.CacheFor(name)
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if r.DB != nil && ev.Entity != nil {
		if d := r.DB.DAO(name); d != nil {
			key, err := d.CacheKey(ctx, map[string]any(ev.Entity))
			note(err)
			if err == nil && key != "" {
				note(r.invalidate(ctx, store, key))
			}
			if ev.OldEntity != nil {
				old, err := d.CacheKey(ctx, map[string]any(ev.OldEntity))
				note(err)
				if err == nil && old != "" && old != key {
					note(r.invalidate(ctx, store, old))
				}
			}
		}
	}
	note(r.builtinCrudHandlers(ctx, ev))
	return first
}

// invalidate drops key: inside a write's transaction only the cluster
// broadcast (returned errors fail the write); after a write whose
// broadcast already committed, only locally; otherwise both.
func (r *Root) invalidate(ctx context.Context, c *cache.Cache, key string) error {
	switch {
	case kongdb.InPreCommit(ctx):
		return c.BroadcastInvalidation(ctx, key)
	case kongdb.ClusterBroadcastDone(ctx):
		c.Delete(key)
		return nil
	}
	if err := c.Invalidate(ctx, key); err != nil {
		r.Log(LogErr, "[DB cache] failed to broadcast cached entity invalidation: "+err.Error())
	}
	return nil
}

// builtinCrudHandlers are the other invalidations of Kong's runloop:
// routes (any write) and services (update) invalidate "router:version",
// plugins "plugins_iterator:version" (kong.core_cache); consumers the
// cache_key of their old and new username (anonymous lookups by username).
func (r *Root) builtinCrudHandlers(ctx context.Context, ev *kongdb.CrudEvent) error {
	switch ev.Schema.Name {
	case "routes":
		return r.invalidate(ctx, r.CoreCache, "router:version")
	case "services":
		if ev.Operation == "update" {
			return r.invalidate(ctx, r.CoreCache, "router:version")
		}
	case "plugins":
		return r.invalidate(ctx, r.CoreCache, "plugins_iterator:version")
	case "consumers":
		d := r.DB.DAO("consumers")
		if d == nil {
			return nil
		}
		var oldName string
		if ev.OldEntity != nil {
			if u, ok := ev.OldEntity["username"].(string); ok && u != "" {
				oldName = u
				k, err := d.CacheKey(ctx, u)
				if err != nil {
					return err
				}
				if err := r.invalidate(ctx, r.Cache, k); err != nil {
					return err
				}
			}
		}
		if ev.Entity != nil {
			if u, ok := ev.Entity["username"].(string); ok && u != "" && u != oldName {
				k, err := d.CacheKey(ctx, u)
				if err != nil {
					return err
				}
				return r.invalidate(ctx, r.Cache, k)
			}
		}
	}
	return nil
}

// workerOf finds the worker whose kong.db call made the write, from the
// FuncRunner kong.db puts in the call's context.
func workerOf(ctx context.Context, r *Root) *Instance {
	if lr, ok := schema.FuncRunnerFrom(ctx).(*luaRunner); ok && lr.st != nil && lr.st.in != nil && lr.st.in.Root == r {
		return lr.st.in
	}
	return nil
}

// dispatchDaoCrud runs Lua callbacks registered on "dao:crud" (the event
// Kong's DAOs post locally) with the same data as the "crud" events.
func (w *eventsWorker) dispatchDaoCrud(ev *kongdb.CrudEvent) {
	if !w.hasSource("dao:crud") {
		return
	}
	w.dispatch("dao:crud", ev.Operation, w.crudData(ev), nilValue)
}
