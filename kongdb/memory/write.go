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
	r, err := t.newRecord(e, o.Workspace)
	if err != nil {
		return nil, err
	}
	if t.rows[r.key] != nil {
		return nil, t.conflict(t.s.Table()+"_pkey", e, t.pkTable(e))
	}
	if err := t.checkUnique(r, nil); err != nil {
		return nil, err
	}
	if err := t.checkForeign(r.row, r.ws); err != nil {
		return nil, err
	}
	r.expires = t.expiry(e, o, now, false)
	t.add(r)
	return t.out(r, o, now), nil
}

// Update writes every non-primary-key column of the visible row pk.
func (t *table) Update(ctx context.Context, pk kongdb.Row, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	_, key, ok := t.pkOf(pk)
	var r *record
	if ok {
		r = t.rows[key]
	}
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

func (t *table) update(r *record, e kongdb.Row, o *kongdb.Options, now float64) (kongdb.Row, error) {
	row := t.storedRow(e)
	for _, name := range t.s.PrimaryKey {
		row[name] = r.row[name]
	}
	next := &record{key: r.key, pk: r.pk, ws: r.ws, wsv: r.wsv, row: row, expires: r.expires}
	if err := t.checkUnique(next, r); err != nil {
		return nil, err
	}
	if err := t.checkForeign(row, r.ws); err != nil {
		return nil, err
	}
	if o.TTL != nil {
		next.expires = t.expiry(row, o, now, true)
	}
	t.unindex(r)
	r.row, r.expires = next.row, next.expires
	t.noteExpiry(r.expires)
	t.index(r)
	return t.out(r, o, now), nil
}

// Upsert inserts the row pk or replaces it (keeping nothing of the old
// row; without a ttl option the expiry is cleared).
func (t *table) Upsert(ctx context.Context, pk kongdb.Row, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	full := kongdb.DeepCopyRow(e)
	for k, v := range pk {
		full[k] = v
	}
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	r, err := t.newRecord(full, o.Workspace)
	if err != nil {
		return nil, err
	}
	return t.upsert(t.rows[r.key], r, o, now)
}

// UpsertByField inserts or replaces the row whose unique field holds value
// (conflict target (ws_id, field)); an existing row keeps its primary key.
func (t *table) UpsertByField(ctx context.Context, field string, value any, e kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	full := kongdb.DeepCopyRow(e)
	full[field] = value
	now, unlock := t.lockWrite(ctx)
	defer unlock()
	uo := *o
	uo.GlobalWorkspace = false
	uo.SkipTTL = true
	old := t.findBy(&t.tdata, field, value, &uo, now)
	if old != nil {
		for _, name := range t.s.PrimaryKey {
			full[name] = old.row[name]
		}
	}
	r, err := t.newRecord(full, o.Workspace)
	if err != nil {
		return nil, err
	}
	if old == nil && t.rows[r.key] != nil {
		return nil, t.conflict(t.s.Table()+"_pkey", full, t.pkTable(full))
	}
	return t.upsert(old, r, o, now)
}

func (t *table) upsert(old, r *record, o *kongdb.Options, now float64) (kongdb.Row, error) {
	if err := t.checkUnique(r, old); err != nil {
		return nil, err
	}
	if err := t.checkForeign(r.row, r.ws); err != nil {
		return nil, err
	}
	r.expires = t.expiry(r.row, o, now, false)
	if old != nil {
		t.remove(old)
	}
	t.add(r)
	return t.out(r, o, now), nil
}

// Delete removes the visible row pk and, as the database's foreign keys
// would, cascades to (or nulls, or is restricted by) referencing rows.
func (t *table) Delete(ctx context.Context, pk kongdb.Row, o *kongdb.Options) (bool, error) {
	o = opts(o)
	defer t.c.lockWriter(ctx)()
	now := t.now()
	_, key, ok := t.pkOf(pk)
	if !ok {
		return false, nil
	}
	t.mu.RLock()
	r := t.rows[key]
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
			if p.t.rows[p.r.key] == p.r && !seen[p.r] {
				p.t.unindex(p.r)
				row := kongdb.DeepCopyRow(p.r.row)
				row[p.null] = schema.Null
				p.r.row = row
				p.t.index(p.r)
			}
		} else if p.t.rows[p.r.key] == p.r {
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
		if child := t.c.usingWorkspace(r.pk.vals[0]); child != "" {
			return t.c.errs.ForeignKeyViolationRestricted("workspaces", child)
		}
	}
	for _, ch := range t.c.children(t) {
		var b strings.Builder
		encode(&b, r.pk.vals[0])
		ord := ch.t.fks[ch.field.Name][b.String()]
		if ord == nil {
			continue
		}
		var err error
		ord.from(nil, func(cr *record) bool {
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
	t.rows = map[string]*record{}
	t.sorted = order{}
	for k := range t.uniq {
		t.uniq[k] = map[ukey]*record{}
	}
	for k := range t.fks {
		t.fks[k] = map[string]*order{}
	}
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

// newRecord builds the record of entity e in workspace ws.
func (t *table) newRecord(e kongdb.Row, ws string) (*record, error) {
	pk, key, ok := t.pkOf(e)
	if !ok {
		return nil, t.c.errs.PrimaryKeyViolation(t.pkTable(e))
	}
	row := t.storedRow(e)
	if !t.s.Workspaceable {
		ws = ""
	}
	return &record{key: key, pk: keyOf(pk), ws: ws, wsv: ws, row: row}, nil
}

// storedRow is what a row keeps of an entity: like PostgreSQL's
// <field>_<pk> columns, a foreign field keeps only the referenced primary
// key, even when given a whole entity; ws_id and ttl live beside the row.
func (t *table) storedRow(e kongdb.Row) kongdb.Row {
	row := kongdb.DeepCopyRow(e)
	delete(row, "ws_id")
	delete(row, "ttl")
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

// checkUnique finds a unique conflict of r with any row but self.
func (t *table) checkUnique(r *record, self *record) error {
	for i := range t.indexes {
		ix := &t.indexes[i]
		k, ok := uniqKey(ix, r.ws, r.row[ix.name])
		if !ok {
			continue
		}
		if other := t.uniq[ix.name][k]; other != nil && other != self && other.key != r.key {
			constraint := t.s.Table() + "_" + ix.name + "_key"
			if !ix.global {
				constraint = t.s.Table() + "_ws_id_" + ix.name + "_unique"
			}
			return t.conflict(constraint, r.row, t.pkTable(r.row))
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
			key := append(append(buf[:0], 's'), ws...) // the key pkOf gives a string id
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
		_, key, ok := parent.pkOf(v)
		var found bool
		if ok {
			if parent == t {
				found = t.rows[key] != nil
			} else {
				parent.mu.RLock()
				found = parent.rows[key] != nil
				parent.mu.RUnlock()
			}
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
