package memory

import (
	"context"
	"strings"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// Insert stores a new row.
func (t *table) Insert(ctx context.Context, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	r, row, err := t.newRecord(e, o.Workspace)
	if err != nil {
		return nil, err
	}
	if t.rows[t.keyOf(r)] != nil {
		return nil, t.conflict(t.s.Table()+"_pkey", e, t.pkTable(e))
	}
	if err := t.checkUnique(r, row, nil); err != nil {
		return nil, err
	}
	if err := t.checkForeign(row, r.wsID()); err != nil {
		return nil, err
	}
	r.expires = t.expiry(e, o, now, false)
	t.add(r)
	return t.out(r, o, now, nil), nil
}

// Update writes every non-primary-key column of the visible row pk.
func (t *table) Update(ctx context.Context, pk kongdb.Row, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	r := t.lookup(pk)
	uo := *o
	uo.GlobalWorkspace = false // Kong: update drops a null workspace
	if r == nil || !t.visible(r, &uo, now, true) {
		return nil, t.c.errs.NotFound(pk)
	}
	return t.update(r, e, o, now)
}

// UpdateByField is Update addressed by a unique field.
func (t *table) UpdateByField(ctx context.Context, field string, value any, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	uo := *o
	uo.GlobalWorkspace = false
	r := t.findBy(&t.tdata, field, value, &uo, now)
	if r == nil {
		return nil, t.c.errs.NotFoundByField(kongdb.Row{field: value})
	}
	return t.update(r, e, o, now)
}

// keepPK sets row's primary-key fields to r's.
func (t *table) keepPK(row kongdb.Row, r *record) {
	for _, i := range t.pkIdx {
		row[t.s.Fields[i].Name], _ = decodeValue(fieldEnc(r.enc, i, ""), 0)
	}
}

func (t *table) update(r *record, e kongdb.Row, o *kongdb.Options, now float64) (kongdb.Row, error) {
	row := t.storedRow(e)
	t.keepPK(row, r)
	enc, err := t.encode(row)
	if err != nil {
		return nil, err
	}
	next := &record{enc: enc, ws: r.ws, expires: r.expires}
	if err := t.checkUnique(next, row, r); err != nil {
		return nil, err
	}
	if err := t.checkForeign(row, r.wsID()); err != nil {
		return nil, err
	}
	if o.TTL != nil {
		next.expires = t.expiry(row, o, now, true)
	}
	t.replace(r, next)
	return t.out(next, o, now, nil), nil
}

// Upsert inserts the row pk or replaces it (keeping nothing of the old
// row; without a ttl option the expiry is cleared).
func (t *table) Upsert(ctx context.Context, pk kongdb.Row, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	full := make(kongdb.Row, len(e)+len(pk))
	for k, v := range e {
		full[k] = v
	}
	for k, v := range pk {
		full[k] = v
	}
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	r, row, err := t.newRecord(full, o.Workspace)
	if err != nil {
		return nil, err
	}
	return t.upsert(t.rows[t.keyOf(r)], r, row, o, now)
}

// UpsertByField inserts or replaces the row whose unique field holds value
// (conflict target (ws_id, field)); an existing row keeps its primary key.
func (t *table) UpsertByField(ctx context.Context, field string, value any, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	full := make(kongdb.Row, len(e)+1)
	for k, v := range e {
		full[k] = v
	}
	full[field] = value
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	uo := *o
	uo.GlobalWorkspace = false
	uo.SkipTTL = true
	old := t.findBy(&t.tdata, field, value, &uo, now)
	if old != nil {
		t.keepPK(full, old)
	}
	r, row, err := t.newRecord(full, o.Workspace)
	if err != nil {
		return nil, err
	}
	if old == nil && t.rows[t.keyOf(r)] != nil {
		return nil, t.conflict(t.s.Table()+"_pkey", full, t.pkTable(full))
	}
	return t.upsert(old, r, row, o, now)
}

func (t *table) upsert(old, r *record, row kongdb.Row, o *kongdb.Options, now float64) (kongdb.Row, error) {
	if err := t.checkUnique(r, row, old); err != nil {
		return nil, err
	}
	if err := t.checkForeign(row, r.wsID()); err != nil {
		return nil, err
	}
	r.expires = t.expiry(row, o, now, false)
	if old != nil {
		t.remove(old)
	}
	t.add(r)
	return t.out(r, o, now, nil), nil
}

// Delete removes the visible row pk and, as the database's foreign keys
// would, cascades to (or nulls, or is restricted by) referencing rows.
func (t *table) Delete(ctx context.Context, pk kongdb.Row, o *kongdb.Options) (bool, error) {
	o = opts(o)
	defer t.c.lockWriter(ctx)()
	now := t.now()
	t.mu.RLock()
	r := t.lookup(pk)
	vis := r != nil && t.visible(r, o, now, true)
	t.mu.RUnlock()
	if !vis {
		return false, nil
	}
	return true, t.deleteRecord(r)
}

// DeleteByField is Delete addressed by a unique field.
func (t *table) DeleteByField(ctx context.Context, field string, value any, o *kongdb.Options) (bool, error) {
	o = opts(o)
	defer t.c.lockWriter(ctx)()
	now := t.now()
	t.mu.RLock()
	r := t.findBy(&t.tdata, field, value, o, now)
	t.mu.RUnlock()
	if r == nil {
		return false, nil
	}
	return true, t.deleteRecord(r)
}

type pending struct {
	t     *table
	r     *record
	null  string // the field to set to null; "" = delete the row
	field *schema.Field
}

// deleteRecord plans the cascade first, so a restricted reference anywhere
// leaves everything untouched, then applies it (caller holds wmu).
func (t *table) deleteRecord(r *record) error {
	var plan []pending
	seen := map[*record]bool{}
	if err := t.planDelete(r, &plan, seen); err != nil {
		return err
	}
	for _, p := range plan {
		p.t.mu.Lock()
		if p.null != "" {
			// the row as now stored: an earlier entry may have nulled
			// another of its fields (a new record of the same key)
			if cur := p.t.rows[p.t.keyOf(p.r)]; cur != nil && !seen[p.r] {
				row := p.t.rowOf(cur)
				row[p.null] = schema.Null
				if enc, err := p.t.encode(row); err == nil { // it was encoded before
					p.t.replace(cur, &record{enc: enc, ws: cur.ws, expires: cur.expires})
				}
			}
		} else if p.t.rows[p.t.keyOf(p.r)] == p.r {
			p.t.remove(p.r)
		}
		p.t.mu.Unlock()
	}
	return nil
}

func (t *table) planDelete(r *record, plan *[]pending, seen map[*record]bool) error {
	if seen[r] {
		return nil
	}
	seen[r] = true
	if t.s.Name == "workspaces" {
		// ws_id references workspaces (no cascade): a workspace in use
		// cannot go.
		id, _ := stringOf(t.pkCol(r, 0))
		if child := t.c.usingWorkspace(id); child != "" {
			return t.c.errs.ForeignKeyViolationRestricted("workspaces", child)
		}
	}
	for _, ch := range t.c.children(t) {
		x := ch.t.fks[ch.field.Name]
		if x == nil {
			continue
		}
		var err error
		x.from(t.pkCol(r, 0), "", func(cr *record) bool {
			switch ch.field.OnDelete {
			case "cascade":
				err = ch.t.planDelete(cr, plan, seen)
			case "null":
				*plan = append(*plan, pending{t: ch.t, r: cr, null: ch.field.Name})
			default:
				if ch.t == t && cr == r {
					return true
				}
				err = t.c.errs.ForeignKeyViolationRestricted(t.s.Name, ch.t.s.Name)
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	*plan = append(*plan, pending{t: t, r: r})
	return nil
}

// Truncate empties the table and, as TRUNCATE ... CASCADE does, every
// table that references it.
func (t *table) Truncate(ctx context.Context) error {
	defer t.c.lockWriter(ctx)()
	t.truncate(map[*table]bool{})
	return nil
}

func (t *table) truncate(done map[*table]bool) {
	if done[t] {
		return
	}
	done[t] = true
	t.mu.Lock()
	t.resetData()
	t.mu.Unlock()
	for _, ch := range t.c.children(t) {
		ch.t.truncate(done)
	}
}

// lockWrite takes the connector's writer lock and the table's lock and
// purges the expired rows; defer the returned unlock.
func (t *table) lockWrite(ctx context.Context) (float64, func()) {
	unlockW := t.c.lockWriter(ctx)
	now := t.now()
	t.mu.Lock()
	t.purgeExpired(now)
	return now, func() {
		t.mu.Unlock()
		unlockW()
	}
}

// newRecord builds the record of entity e in workspace ws (caller holds
// wmu), and returns the row it stores.
func (t *table) newRecord(e kongdb.Row, ws string) (*record, kongdb.Row, error) {
	var buf [64]byte
	if _, ok := t.appendPK(buf[:0], e); !ok || len(t.pkIdx) != len(t.s.PrimaryKey) {
		return nil, nil, t.c.errs.PrimaryKeyViolation(t.pkTable(e))
	}
	row := t.storedRow(e)
	enc, err := t.encode(row)
	if err != nil {
		return nil, nil, err
	}
	r := &record{enc: enc}
	if t.s.Workspaceable {
		r.ws = t.c.wsRef(ws)
	}
	return r, row, nil
}

// encode is encodeRow with a value outside the value model reported as a
// database error naming the field.
func (t *table) encode(row kongdb.Row) (string, error) {
	enc, err := t.encodeRow(row)
	if err != nil {
		return "", t.c.errs.DatabaseError(err.Error(), err)
	}
	return enc, nil
}

// storedRow is what a row keeps of an entity: like PostgreSQL's
// <field>_<pk> columns, a foreign field keeps only the referenced primary
// key, even when given a whole entity; ws_id and ttl live beside the row.
func (t *table) storedRow(e kongdb.Row) kongdb.Row {
	// a shallow copy: the row is encoded, never kept
	row := make(kongdb.Row, len(e))
	for k, v := range e {
		if k != "ws_id" && k != "ttl" {
			row[k] = v
		}
	}
	for _, f := range t.s.Fields {
		ref, ok := row[f.Name].(map[string]any)
		if f.Type != schema.TypeForeign || !ok || f.RefSchema == nil {
			continue
		}
		pk := make(map[string]any, len(f.RefSchema.PrimaryKey))
		for _, name := range f.RefSchema.PrimaryKey {
			if v, ok := ref[name]; ok {
				pk[name] = v
			}
		}
		row[f.Name] = pk
	}
	return row
}

func (t *table) pkTable(e kongdb.Row) kongdb.Row {
	pk := kongdb.Row{}
	for _, name := range t.s.PrimaryKey {
		if v, ok := e[name]; ok {
			pk[name] = v
		}
	}
	return pk
}

// checkUnique finds a unique conflict of r (whose row is row) with any
// row but self.
func (t *table) checkUnique(r *record, row kongdb.Row, self *record) error {
	for i := range t.indexes {
		ix := &t.indexes[i]
		ws, k := t.indexKey(ix, r)
		if k == "" {
			continue
		}
		if other := t.uniq[i].of(ws)[k]; other != nil && other != self && t.keyOf(other) != t.keyOf(r) {
			constraint := t.s.Table() + "_" + ix.name + "_key"
			if !ix.global {
				constraint = t.s.Table() + "_ws_id_" + ix.name + "_unique"
			}
			return t.conflict(constraint, row, t.pkTable(row))
		}
	}
	return nil
}

// conflict reports a violated unique constraint the way Kong's postgres
// strategy reads the server's message (toerror): "cache_key" in it names
// the cache key; else the first unique field whose name occurs anywhere in
// the message (so a table named keyauth_credentials reports a primary-key
// conflict as one on its unique field "key", as Kong does); else the
// primary key.
func (t *table) conflict(constraint string, e kongdb.Row, pk kongdb.Row) error {
	msg := `duplicate key value violates unique constraint "` + constraint + `"`
	if len(t.s.CacheKey) > 1 && strings.Contains(msg, "cache_key") {
		keys := kongdb.Row{}
		for _, name := range t.s.CacheKey {
			v, ok := e[name]
			if !ok {
				v = schema.Null
			}
			keys[name] = v
		}
		return t.c.errs.UniqueViolation(keys)
	}
	for _, f := range t.s.Fields {
		if f.Unique && strings.Contains(msg, f.Name) {
			v, ok := e[f.Name]
			if !ok {
				v = schema.Null
			}
			return t.c.errs.UniqueViolation(kongdb.Row{f.Name: v})
		}
	}
	return t.c.errs.PrimaryKeyViolation(pk)
}

// checkForeign makes sure every foreign key of row references a row, and
// its workspace (ws_id's own foreign key) exists.
func (t *table) checkForeign(row kongdb.Row, ws string) error {
	if t.s.Workspaceable && ws != "" {
		if wt := t.c.table("workspaces"); wt != nil && wt != t {
			var buf [64]byte
			key := appendString(append(buf[:0], tagString), ws) // the key of a string id
			wt.mu.RLock()
			found := wt.rows[string(key)] != nil
			wt.mu.RUnlock()
			if !found {
				return t.c.errs.InvalidWorkspace(ws)
			}
		}
	}
	for _, f := range t.s.Fields {
		if f.Type != schema.TypeForeign {
			continue
		}
		v, ok := row[f.Name].(map[string]any)
		if !ok {
			continue
		}
		parent := t.c.table(f.Reference)
		if parent == nil {
			continue
		}
		var found bool
		if parent == t {
			found = t.lookup(v) != nil
		} else {
			parent.mu.RLock()
			found = parent.lookup(v) != nil
			parent.mu.RUnlock()
		}
		if !found {
			fk := kongdb.Row{}
			for _, name := range parent.s.PrimaryKey {
				fk[name] = v[name]
			}
			return t.c.errs.ForeignKeyViolationInvalidReference(fk, f.Name, f.Reference)
		}
	}
	return nil
}

// expiry is the absolute expiry for a write with o (Kong: created_at + ttl
// on insert/upsert, updated_at + ttl on update, else now + ttl).
func (t *table) expiry(e kongdb.Row, o *kongdb.Options, now float64, update bool) float64 {
	if !t.s.TTL || o.TTL == nil || *o.TTL == 0 {
		return 0
	}
	ttl := float64(*o.TTL)
	base := "created_at"
	if update {
		base = "updated_at"
	}
	if f := t.s.Field(base); f != nil && f.Auto && f.Timestamp {
		if v, ok := e[base].(float64); ok {
			return v + ttl
		}
	}
	return now + ttl
}

// purgeExpired drops expired rows (caller holds t's write lock and wmu), so
// an expired row never blocks a new one, as Kong's ttl cleanup would.
func (t *table) purgeExpired(now float64) {
	if !t.s.TTL || t.nextExp == 0 || t.nextExp >= now {
		return
	}
	t.nextExp = 0
	for _, r := range t.sorted.records() {
		if r.expires != 0 && r.expires < now {
			t.remove(r)
		} else {
			t.noteExpiry(r.expires)
		}
	}
}
