// Package memory is the embedded storage strategy of kongdb (database =
// off): every entity in Go maps, with Kong's semantics for primary keys,
// unique fields, the composite cache_key, foreign keys with on_delete,
// ttl, tags filters and pagination tokens shaped like the postgres ones.
//
// Reads take one table's read lock; writes are serialised by one writer
// mutex and take the write lock of each table they change, so readers of
// other tables never wait. It must not import gopher-lua.
package memory

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// Connector holds the tables of one in-memory database.
type Connector struct {
	wmu sync.Mutex // one writer at a time, across tables

	tmu    sync.RWMutex
	tables map[string]*table

	now  atomic.Pointer[func() time.Time]
	errs kongdb.Errors
	iso  isoState // the isolated write running (isolate.go)

	wsRefs map[string]*wsRef // interned workspace ids (guarded by wmu)
}

// New returns an empty in-memory database.
func New() *Connector {
	c := &Connector{tables: map[string]*table{}, errs: kongdb.Errors{Strategy: "off"}}
	now := time.Now
	c.now.Store(&now)
	return c
}

// wsRef interns workspace id ws (caller holds wmu): every row of a
// workspace shares one string and one boxed ws_id.
func (c *Connector) wsRef(ws string) *wsRef {
	if w := c.wsRefs[ws]; w != nil {
		return w
	}
	if c.wsRefs == nil {
		c.wsRefs = map[string]*wsRef{}
	}
	w := &wsRef{id: ws, v: ws}
	c.wsRefs[ws] = w
	return w
}

// Name is "off": Kong names its errors after kong_config.database.
func (c *Connector) Name() string { return "off" }

// SetClock replaces the clock used for ttl (tests).
func (c *Connector) SetClock(now func() time.Time) { c.now.Store(&now) }

// now is the clock for a read or write of t (0 when t has no ttl: nothing
// then depends on it).
func (t *table) now() float64 {
	if !t.s.TTL {
		return 0
	}
	return t.c.clock()
}

func (c *Connector) clock() float64 {
	t := (*c.now.Load())()
	return float64(t.UnixNano()) / 1e9
}

// Close releases nothing; the data stays until the Connector is dropped.
func (c *Connector) Close() error { return nil }

// NewStrategy creates (or replaces) the table of s.
func (c *Connector) NewStrategy(s *schema.Schema) (kongdb.Strategy, error) {
	t := newTable(c, s)
	c.tmu.Lock()
	c.tables[s.Name] = t
	c.tmu.Unlock()
	return t, nil
}

func (c *Connector) table(name string) *table {
	c.tmu.RLock()
	t := c.tables[name]
	c.tmu.RUnlock()
	return t
}

// children lists the foreign fields of every table that reference t.
func (c *Connector) children(t *table) []childRef {
	c.tmu.RLock()
	defer c.tmu.RUnlock()
	var out []childRef
	for _, ct := range c.tables {
		for _, f := range ct.s.Fields {
			if f.Type == schema.TypeForeign && f.Reference == t.s.Name {
				out = append(out, childRef{t: ct, field: f})
			}
		}
	}
	return out
}

// usingWorkspace names a table holding a row of workspace ws, or "".
func (c *Connector) usingWorkspace(ws any) string {
	id, _ := ws.(string)
	c.tmu.RLock()
	defer c.tmu.RUnlock()
	var names []string
	for name, t := range c.tables {
		if t.s.Workspaceable {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		t := c.tables[name]
		found := false
		t.sorted.from("", func(r *record) bool {
			found = r.wsID() == id
			return !found
		})
		if found {
			return name
		}
	}
	return ""
}

type childRef struct {
	t     *table
	field *schema.Field
}

var _ kongdb.Connector = (*Connector)(nil)
var _ kongdb.Isolator = (*Connector)(nil)
var _ kongdb.Strategy = (*table)(nil)

func opts(o *kongdb.Options) *kongdb.Options {
	if o == nil {
		return &kongdb.Options{}
	}
	return o
}

func ctxErr(ctx context.Context) error { return ctx.Err() }
