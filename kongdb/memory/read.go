package memory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/luahost/luahost/kongdb"
)

// Select returns the row with primary key pk, or nil.
func (t *table) Select(ctx context.Context, pk kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	r := t.lookupIn(t.view(ctx), pk)
	if r == nil || !t.visible(r, o, now, true) {
		return nil, nil
	}
	return t.out(r, o, now, nil), nil
}

// SelectByField looks up a unique field, the endpoint_key or "cache_key".
func (t *table) SelectByField(ctx context.Context, field string, value any, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	r := t.findBy(t.view(ctx), field, value, o, now)
	if r == nil {
		return nil, nil
	}
	return t.out(r, o, now, nil), nil
}

// findBy finds the visible record of d whose field holds value (caller
// holds a lock).
func (t *table) findBy(d *tdata, field string, value any, o *kongdb.Options, now float64) *record {
	var buf [64]byte
	for i := range t.indexes {
		ix := &t.indexes[i]
		if ix.name != field {
			continue
		}
		if !ix.global && o.GlobalWorkspace {
			break // a global query on a workspace-scoped index: scan
		}
		ws, k, ok := uniqKey(buf[:0], ix, o.Workspace, value)
		if !ok {
			return nil
		}
		if r := d.uniq[i].of(ws)[string(k)]; r != nil && t.visible(r, o, now, true) {
			return r
		}
		return nil
	}
	if len(t.s.PrimaryKey) == 1 && t.s.PrimaryKey[0] == field {
		if r := t.lookupIn(d, kongdb.Row{field: value}); r != nil && t.visible(r, o, now, true) {
			return r
		}
		return nil
	}
	fi, isField := t.fieldIdx[field]
	if !isField {
		fi = -1
	}
	want, ok := keyEnc(buf[:0], value)
	if !ok {
		return nil
	}
	var found *record
	d.sorted.from("", func(r *record) bool {
		if columnEnc(r.enc, fi, field) == string(want) && t.visible(r, o, now, true) {
			found = r
			return false
		}
		return true
	})
	return found
}

// Page returns up to size rows after offset in primary-key order.
func (t *table) Page(ctx context.Context, size int, offset string, o *kongdb.Options) ([]kongdb.Row, string, error) {
	return t.page(ctx, size, offset, opts(o), "", nil)
}

// PageFor pages the rows whose foreign field fk references fkPK.
func (t *table) PageFor(ctx context.Context, fk string, fkPK kongdb.Row, size int, offset string, o *kongdb.Options) ([]kongdb.Row, string, error) {
	return t.page(ctx, size, offset, opts(o), fk, fkPK)
}

// page walks the table in primary-key order, or only the records that
// reference fkPK through field fk when fk is set.
func (t *table) page(ctx context.Context, size int, offset string, o *kongdb.Options, fk string, fkPK kongdb.Row) ([]kongdb.Row, string, error) {
	if size <= 0 {
		size = o.PageSize
		if size <= 0 {
			size = kongdb.DefaultPageSize
		}
	}
	after := ""
	if offset != "" {
		vals, err := t.decodeOffset(offset)
		if err != nil {
			return nil, "", err
		}
		k, ok := appendVals(nil, vals)
		if !ok {
			return nil, "", t.c.errs.InvalidOffset(offset, "bad json encoding")
		}
		after = string(k)
	}
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	d := t.view(ctx)
	walk := d.sorted.from
	if fk != "" {
		x := d.fks[fk]
		var buf [64]byte
		g, ok := keyEnc(buf[:0], fkPK)
		walk = func(after string, fn func(*record) bool) {
			if x != nil && ok {
				x.from(string(g), after, fn)
			}
		}
	}
	rows := make([]kongdb.Row, 0, min(size, d.sorted.n, 64))
	b := newBoxer(slabMax) // shared by the page's rows
	var last *record
	more := false
	walk(after, func(r *record) bool {
		if after != "" && t.compareKey(r, after) == 0 {
			return true
		}
		if !t.visible(r, o, now, true) {
			return true
		}
		if len(o.Tags) > 0 && !t.hasTags(r, o.Tags, o.TagsCond) {
			return true
		}
		if len(rows) == size {
			more = true
			return false
		}
		rows = append(rows, t.out(r, o, now, &b))
		last = r
		return true
	})
	if more {
		return rows, encodeOffset(t.pkVals(last)), nil
	}
	return rows, "", nil
}

// encodeOffset is Kong's token: base64 (no padding) of the JSON array of
// the last row's primary-key values.
func encodeOffset(pk []any) string {
	b, _ := json.Marshal(pk)
	return base64.RawStdEncoding.EncodeToString(b)
}

func (t *table) decodeOffset(offset string) ([]any, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(offset, "="))
	if err != nil {
		return nil, t.c.errs.InvalidOffset(offset, "bad base64 encoding")
	}
	var vals []any
	if err := json.Unmarshal(raw, &vals); err != nil || len(vals) != len(t.s.PrimaryKey) {
		return nil, t.c.errs.InvalidOffset(offset, "bad json encoding")
	}
	return vals, nil
}
