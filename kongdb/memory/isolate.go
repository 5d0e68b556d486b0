package memory

import (
	"context"
	"maps"
	"sync/atomic"
)

// Isolated writes: Kong DB-less swaps its whole configuration at once
// (LMDB), so no reader ever sees half of a POST /config. Here the
// configuration is replaced through the DAO, entity by entity (each write
// posts its CRUD event); Isolated makes those writes appear to readers
// all at once:
//
//   - it takes the writer lock (other writers wait for the end) and gives
//     every table a frozen copy of its data (new maps and orders of the
//     same records: a stored record never changes, but the live maps and
//     orders are changed in place by the writes that follow);
//   - while it runs, a read whose context is not the isolated one reads
//     the frozen copy, under the table's read lock as usual; the isolated
//     writes, and reads made with their context, use the live data;
//   - at the end one atomic store makes every table's live data visible
//     again, the new configuration whole (or, after a failure the caller
//     undid, the old one).
//
// A read costs one atomic load more. A reader reading two tables one
// after the other may still see the first before the end and the second
// after it, as with any two reads.

// isolation marks the context of an isolated write.
type isolation struct{ c *Connector }

type isolationKey struct{}

func (c *Connector) inIsolation(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	iso, _ := ctx.Value(isolationKey{}).(*isolation)
	return iso != nil && iso.c == c
}

// Isolated runs fn, whose writes (made with the context it is given)
// readers outside it see only when it has returned, all together
// (kongdb.Isolator). Calls with an isolated context join the running one.
func (c *Connector) Isolated(ctx context.Context, fn func(ctx context.Context) error) error {
	if c.inIsolation(ctx) {
		return fn(ctx)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tmu.RLock()
	tables := make([]*table, 0, len(c.tables))
	for _, t := range c.tables {
		tables = append(tables, t)
	}
	c.tmu.RUnlock()
	for _, t := range tables {
		t.mu.Lock()
		t.frozen = t.cloneData()
		t.mu.Unlock()
	}
	iso := &isolation{c: c}
	c.iso.Store(iso)
	defer func() {
		c.iso.Store(nil)
		for _, t := range tables {
			t.mu.Lock()
			t.frozen = nil
			t.mu.Unlock()
		}
	}()
	return fn(context.WithValue(ctx, isolationKey{}, iso))
}

// view is the data a read with ctx sees (caller holds t.mu).
func (t *table) view(ctx context.Context) *tdata {
	if t.c.iso.Load() != nil && t.frozen != nil && !t.c.inIsolation(ctx) {
		return t.frozen
	}
	return &t.tdata
}

// lockWriter takes the connector's writer lock, unless ctx is an
// isolated write's (which holds it); defer the returned unlock.
func (c *Connector) lockWriter(ctx context.Context) func() {
	if c.inIsolation(ctx) {
		return func() {}
	}
	c.wmu.Lock()
	return c.wmu.Unlock
}

// cloneData copies t's live data for the readers of a frozen view
// (caller holds t.mu): the rows map, the primary-key order, each unique
// index's per-workspace maps and each foreign field's index, all of
// pointers to the same records (never changed once stored: an update or a
// delete puts another record in the live data, or takes it out). Rows are
// not copied: it costs a few words per row and index.
func (t *table) cloneData() *tdata {
	d := &tdata{rows: maps.Clone(t.rows), sorted: t.sorted.clone(), nextExp: t.nextExp,
		uniq: make([]uniqMaps, len(t.uniq)), fks: make(map[string]*fkIndex, len(t.fks))}
	for i, u := range t.uniq {
		c := uniqMaps{byWS: make(map[string]map[string]*record, len(u.byWS))}
		for ws, m := range u.byWS {
			m = maps.Clone(m)
			c.byWS[ws] = m
			if u.first != nil && ws == u.firstWS {
				c.firstWS, c.first = ws, m
			}
		}
		d.uniq[i] = c
	}
	for name, x := range t.fks {
		d.fks[name] = &fkIndex{t: x.t, field: x.field, chunks: x.chunks.clone()}
	}
	return d
}

// isoState is the connector's running isolation (nil: none).
type isoState = atomic.Pointer[isolation]
