package memory

import (
	"strconv"
	"strings"
	"sync"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// table is one entity's storage and its per-schema strategy.
type table struct {
	c *Connector
	s *schema.Schema

	mu    sync.RWMutex
	tdata // the live data, guarded by mu
	// frozen is what readers outside an isolated write see while one runs
	// (Connector.Isolated): a copy of the data taken when it began.
	// Guarded by mu; used only while the connector's iso is set.
	frozen *tdata

	indexes []uniqIndex
	pk      []*schema.Field
}

// tdata is a table's rows and indexes.
type tdata struct {
	rows   map[string]*record // by primary key
	sorted order              // primary-key order
	uniq   map[string]map[ukey]*record

	nextExp float64 // no record expires before this (0 = none expires)

	// fks indexes the foreign fields: field -> referenced key -> the
	// referencing records in primary-key order, so page_for_<fk> costs
	// O(log m + size) instead of a copy and sort of all m of them.
	fks map[string]map[string]*order
}

// uniqIndex is a unique field or the cache_key column.
type uniqIndex struct {
	name   string
	field  *schema.Field // nil for cache_key
	global bool          // not scoped to the workspace
}

type record struct {
	key     string
	pk      pkey // primary-key column values (a foreign key as its id)
	ws      string
	wsv     any        // ws as an interface value, boxed once
	row     kongdb.Row // owned copy, without ws_id and ttl
	expires float64    // unix seconds; 0 = never
}

func newTable(c *Connector, s *schema.Schema) *table {
	t := &table{c: c, s: s, tdata: tdata{rows: map[string]*record{}, uniq: map[string]map[ukey]*record{}}}
	for _, name := range s.PrimaryKey {
		t.pk = append(t.pk, s.Field(name))
	}
	for _, f := range s.Fields {
		single := len(s.PrimaryKey) == 1 && s.PrimaryKey[0] == f.Name
		// A non-unique endpoint_key (targets.target) is looked up by scan:
		// only unique fields are constrained.
		if f.Unique && !single {
			t.indexes = append(t.indexes, uniqIndex{name: f.Name, field: f,
				global: f.UniqueAcrossWS || !s.Workspaceable})
		}
	}
	if len(s.CacheKey) > 1 {
		t.indexes = append(t.indexes, uniqIndex{name: "cache_key", global: true})
	}
	for _, ix := range t.indexes {
		t.uniq[ix.name] = map[ukey]*record{}
	}
	t.fks = map[string]map[string]*order{}
	for _, f := range s.Fields {
		if f.Type == schema.TypeForeign {
			t.fks[f.Name] = map[string]*order{}
		}
	}
	return t
}

// column is the stored column value of a field: a foreign key as its id.
func column(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["id"]
	}
	return v
}

func encode(b *strings.Builder, v any) {
	switch x := column(v).(type) {
	case string:
		b.WriteByte('s')
		b.WriteString(x)
	case float64:
		b.WriteByte('n')
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		b.WriteByte('n')
		b.WriteString(strconv.Itoa(x))
	case bool:
		if x {
			b.WriteString("bt")
		} else {
			b.WriteString("bf")
		}
	default:
		b.WriteByte('?')
		b.WriteString(kongdb.Pretty(x))
	}
}

// pkOf returns the primary-key columns and key of e; ok is false when a
// primary-key value is missing.
func (t *table) pkOf(e kongdb.Row) ([]any, string, bool) {
	vals := make([]any, len(t.s.PrimaryKey))
	var b strings.Builder
	for i, name := range t.s.PrimaryKey {
		v := column(e[name])
		if v == nil || schema.IsNull(v) {
			return nil, "", false
		}
		vals[i] = v
		if i > 0 {
			b.WriteByte(0)
		}
		encode(&b, v)
	}
	return vals, b.String(), true
}

// ukey is a unique index key: the workspace (empty for global indexes),
// the kind of value and the value (strings as they are, so a lookup
// allocates nothing).
type ukey struct {
	ws   string
	kind byte
	v    string
}

// uniqKey is the index key of value v in index ix for workspace ws; ok is
// false for a null value (never conflicts, as in SQL).
func uniqKey(ix *uniqIndex, ws string, v any) (ukey, bool) {
	c := column(v)
	if c == nil || schema.IsNull(c) {
		return ukey{}, false
	}
	if ix.global {
		ws = ""
	}
	if s, ok := c.(string); ok {
		return ukey{ws: ws, kind: 's', v: s}, true
	}
	var b strings.Builder
	encode(&b, c)
	return ukey{ws: ws, kind: 'x', v: b.String()}, true
}

func compareVal(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
		return 1
	case float64:
		switch y := b.(type) {
		case float64:
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		case string:
			return -1
		}
		return 1
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
		return -1
	}
	return 0
}

func comparePK(a, b []any) int {
	for i := range a {
		if i >= len(b) {
			return 1
		}
		if c := compareVal(a[i], b[i]); c != 0 {
			return c
		}
	}
	if len(a) < len(b) {
		return -1
	}
	return 0
}

// add stores r (caller holds the write lock).
func (t *table) add(r *record) {
	t.noteExpiry(r.expires)
	t.rows[r.key] = r
	t.sorted.insert(r)
	t.index(r)
}

// noteExpiry keeps nextExp at or before every expiry.
func (t *table) noteExpiry(exp float64) {
	if exp != 0 && (t.nextExp == 0 || exp < t.nextExp) {
		t.nextExp = exp
	}
}

func (t *table) index(r *record) {
	for i := range t.indexes {
		ix := &t.indexes[i]
		if k, ok := uniqKey(ix, r.ws, r.row[ix.name]); ok {
			t.uniq[ix.name][k] = r
		}
	}
	for name, byKey := range t.fks {
		if k := fkKey(r.row[name]); k != "" {
			ord := byKey[k]
			if ord == nil {
				ord = &order{}
				byKey[k] = ord
			}
			ord.insert(r)
		}
	}
}

// fkKey is the index key of a foreign value ({id = ...}); "" for null.
func fkKey(v any) string {
	c := column(v)
	if c == nil || schema.IsNull(c) {
		return ""
	}
	var b strings.Builder
	encode(&b, c)
	return b.String()
}

func (t *table) unindex(r *record) {
	for i := range t.indexes {
		ix := &t.indexes[i]
		if k, ok := uniqKey(ix, r.ws, r.row[ix.name]); ok && t.uniq[ix.name][k] == r {
			delete(t.uniq[ix.name], k)
		}
	}
	for name, byKey := range t.fks {
		if k := fkKey(r.row[name]); k != "" {
			if ord := byKey[k]; ord != nil {
				ord.remove(r)
				if ord.n == 0 {
					delete(byKey, k)
				}
			}
		}
	}
}

// remove drops r (caller holds the write lock).
func (t *table) remove(r *record) {
	t.unindex(r)
	delete(t.rows, r.key)
	t.sorted.remove(r)
}

// visible reports whether r is seen by a read with o at time now.
func (t *table) visible(r *record, o *kongdb.Options, now float64, wsScoped bool) bool {
	if r.expires != 0 && r.expires < now && !o.SkipTTL { // export still hides expired rows
		return false
	}
	if wsScoped && t.s.Workspaceable && !o.GlobalWorkspace && r.ws != o.Workspace {
		return false
	}
	return true
}

// out returns the row as the strategy hands it to the DAO: a deep copy,
// with ws_id and the ttl (remaining whole seconds, or absolute on export).
func (t *table) out(r *record, o *kongdb.Options, now float64) kongdb.Row {
	n := len(r.row)
	if t.s.Workspaceable {
		n++
	}
	if t.s.TTL {
		n++
	}
	row := make(kongdb.Row, n)
	for k, v := range r.row {
		switch v.(type) {
		case map[string]any, []any:
			v = kongdb.DeepCopy(v)
		}
		row[k] = v
	}
	if t.s.Workspaceable {
		row["ws_id"] = r.wsv
	}
	if t.s.TTL {
		switch {
		case r.expires == 0:
			row["ttl"] = schema.Null
		case o.Export:
			row["ttl"] = floor(r.expires)
		default:
			row["ttl"] = floor(r.expires - now)
		}
	}
	return row
}

func floor(f float64) float64 {
	i := float64(int64(f))
	if i > f {
		i--
	}
	return i
}

// hasTags is the tags filter (tags_cond "and" when more than one).
func hasTags(row kongdb.Row, tags []string, cond string) bool {
	have, _ := row["tags"].([]any)
	match := 0
	for _, want := range tags {
		for _, h := range have {
			if s, ok := h.(string); ok && s == want {
				match++
				break
			}
		}
	}
	if cond == "or" {
		return match > 0
	}
	return match == len(tags)
}
