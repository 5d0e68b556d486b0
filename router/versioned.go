package router

import (
	"sync"
	"sync/atomic"
)

// Versioned holds the current Router for the proxy. Requests read it with
// one atomic load; a rebuild (on a routes/services CRUD event, or a timer, as
// Kong's runloop rebuilds its router) builds a new Router aside and swaps it
// in. Rebuilds are serialised so a slow, older build never replaces a newer
// one. The zero value holds no Router (Match answers nil) until the first
// Store or Rebuild.
type Versioned struct {
	cur     atomic.Pointer[versionedRouter]
	buildMu sync.Mutex
	next    uint64 // guarded by buildMu
}

type versionedRouter struct {
	r       *Router
	version uint64
}

// NewVersioned returns a holder serving r (which may be nil) as version 1.
func NewVersioned(r *Router) *Versioned {
	v := &Versioned{}
	if r != nil {
		v.Store(r)
	}
	return v
}

// Load returns the current Router (nil before the first one) and its version.
func (v *Versioned) Load() (*Router, uint64) {
	c := v.cur.Load()
	if c == nil {
		return nil, 0
	}
	return c.r, c.version
}

// Store makes r the current Router and returns its version.
func (v *Versioned) Store(r *Router) uint64 {
	v.buildMu.Lock()
	defer v.buildMu.Unlock()
	v.next++
	v.cur.Store(&versionedRouter{r: r, version: v.next})
	return v.next
}

// Rebuild builds a Router from routes and services and makes it current. On
// error the current Router stays in service (Kong: "could not rebuild
// router ... (stale router will be used)") and the error is returned.
func (v *Versioned) Rebuild(routes []Route, services map[string]*Service, opts ...Option) (uint64, error) {
	v.buildMu.Lock()
	defer v.buildMu.Unlock()
	r, err := New(routes, services, opts...)
	if err != nil {
		c := v.cur.Load()
		if c == nil {
			return 0, err
		}
		return c.version, err
	}
	v.next++
	v.cur.Store(&versionedRouter{r: r, version: v.next})
	return v.next, nil
}

// Match routes req with the current Router; nil when none matches or there
// is no Router yet.
func (v *Versioned) Match(req *Request) *Match {
	c := v.cur.Load()
	if c == nil {
		return nil
	}
	return c.r.Match(req)
}

// RebuildFromRows is Rebuild from kongdb rows (routes and services, as the
// DAO's each/page return them).
func (v *Versioned) RebuildFromRows(routeRows, serviceRows []map[string]any, opts ...Option) (uint64, error) {
	routes, services, err := FromRows(routeRows, serviceRows)
	if err != nil {
		_, ver := v.Load()
		return ver, err
	}
	return v.Rebuild(routes, services, opts...)
}
