package memory

import (
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

	indexes []uniqIndex // the unique indexes' definitions (their maps: tdata.uniq)

	pkIdx    []int          // the primary-key fields' positions in s.Fields
	isPK     []bool         // by position in s.Fields
	fieldIdx map[string]int // position in s.Fields by name
}

// tdata is a table's rows and everything a read consults to find them.
// Records are immutable once stored (an update stores a new one), so a
// copy of a tdata copies maps and orders of pointers, never rows.
type tdata struct {
	rows   map[string]*record // by primary key (keyOf)
	sorted order              // primary-key order

	uniq []uniqMaps // by position in table.indexes

	nextExp float64 // no record expires before this (0 = none expires)

	// fks indexes the foreign fields, so page_for_<fk> costs O(log n +
	// size) instead of a copy and sort of the referencing rows.
	fks map[string]*fkIndex
}

// uniqIndex is a unique field or the cache_key column.
type uniqIndex struct {
	name   string
	field  int  // position in s.Fields; -1 for cache_key
	global bool // not scoped to the workspace
}

// uniqMaps is a unique index's data: per workspace ("" for a global
// index), the records by the encoding of their value (a substring of the
// record's row).
type uniqMaps struct {
	byWS map[string]map[string]*record

	// the first workspace's map, found by a string compare (usually the
	// only one: the default workspace) instead of a second hash; set under
	// the write lock
	firstWS string
	first   map[string]*record
}

// of returns u's map for workspace ws (nil when it has none).
func (u *uniqMaps) of(ws string) map[string]*record {
	if u.first != nil && ws == u.firstWS {
		return u.first
	}
	return u.byWS[ws]
}

// record is one stored row. Everything an index needs is read from enc,
// and the index keys are substrings of it, so a row costs its encoding,
// this header and one slot per index. A stored record is never changed:
// a frozen view (isolate.go) may share it.
type record struct {
	enc     string  // the encoded row (codec.go), without ws_id and ttl
	ws      *wsRef  // the row's workspace; nil when the table has none
	expires float64 // unix seconds; 0 = never
}

// wsRef is a workspace id interned by the Connector, boxed once.
type wsRef struct {
	id string
	v  any
}

func (r *record) wsID() string {
	if r.ws == nil {
		return ""
	}
	return r.ws.id
}

func newTable(c *Connector, s *schema.Schema) *table {
	t := &table{c: c, s: s, fieldIdx: make(map[string]int, len(s.Fields)),
		isPK: make([]bool, len(s.Fields))}
	for i, f := range s.Fields {
		t.fieldIdx[f.Name] = i
	}
	for _, name := range s.PrimaryKey {
		i, ok := t.fieldIdx[name]
		if !ok {
			// a primary key that is not a field: the DAO refuses such a
			// schema; keep the table usable as keyless
			continue
		}
		t.pkIdx = append(t.pkIdx, i)
		t.isPK[i] = true
	}
	for i, f := range s.Fields {
		single := len(s.PrimaryKey) == 1 && s.PrimaryKey[0] == f.Name
		// A non-unique endpoint_key (targets.target) is looked up by scan:
		// only unique fields are constrained.
		if f.Unique && !single {
			t.indexes = append(t.indexes, uniqIndex{name: f.Name, field: i,
				global: f.UniqueAcrossWS || !s.Workspaceable})
		}
	}
	if len(s.CacheKey) > 1 {
		t.indexes = append(t.indexes, uniqIndex{name: "cache_key", field: -1, global: true})
	}
	t.resetData()
	return t
}

// resetData gives t empty live data (caller holds the write lock).
func (t *table) resetData() {
	t.rows = map[string]*record{}
	t.sorted = order{t: t}
	t.uniq = make([]uniqMaps, len(t.indexes))
	for i := range t.uniq {
		t.uniq[i].byWS = map[string]map[string]*record{}
	}
	t.fks = make(map[string]*fkIndex, len(t.fks))
	for i, f := range t.s.Fields {
		if f.Type == schema.TypeForeign {
			t.fks[f.Name] = &fkIndex{t: t, field: i}
		}
	}
}

// column is the stored column value of a field: a foreign key as its id.
func column(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["id"]
	}
	return v
}

// pkCol is the encoding of r's j-th primary-key column.
func (t *table) pkCol(r *record, j int) string {
	if j == 0 && len(t.pkIdx) > 0 && !t.pkForeign(0) {
		// the first entry (encodeRow writes the key first)
		_, i := uvarint(r.enc, 0)
		ref, i := uvarint(r.enc, i)
		if int(ref)-1 == t.pkIdx[0] {
			return r.enc[i:skipValue(r.enc, i)]
		}
	}
	return columnEnc(r.enc, t.pkIdx[j], "")
}

func (t *table) pkForeign(j int) bool {
	return t.s.Fields[t.pkIdx[j]].Type == schema.TypeForeign
}

// keyOf is r's key in rows: its primary-key columns' encodings (for the
// usual single column, a substring of r's row).
func (t *table) keyOf(r *record) string {
	if len(t.pkIdx) == 1 {
		return t.pkCol(r, 0)
	}
	var b strings.Builder
	for j := range t.pkIdx {
		b.WriteString(t.pkCol(r, j))
	}
	return b.String()
}

// appendPK appends the key of the primary-key values in e (as keyOf has
// it); ok is false when one is missing or null.
func (t *table) appendPK(b []byte, e kongdb.Row) ([]byte, bool) {
	for _, name := range t.s.PrimaryKey {
		var ok bool
		if b, ok = keyEnc(b, e[name]); !ok {
			return b, false
		}
	}
	return b, true
}

// appendVals appends the key of primary-key column values (an offset
// token's).
func appendVals(b []byte, vals []any) ([]byte, bool) {
	for _, v := range vals {
		var ok bool
		if b, ok = keyEnc(b, v); !ok {
			return b, false
		}
	}
	return b, true
}

// pkVals are r's primary-key column values (an offset token's).
func (t *table) pkVals(r *record) []any {
	vals := make([]any, len(t.pkIdx))
	for j := range t.pkIdx {
		vals[j], _ = decodeValue(t.pkCol(r, j), 0)
	}
	return vals
}

// lookup finds the live record of primary key pk (caller holds a lock).
func (t *table) lookup(pk kongdb.Row) *record {
	return t.lookupIn(&t.tdata, pk)
}

// lookupIn finds the record of primary key pk in d (caller holds a lock).
func (t *table) lookupIn(d *tdata, pk kongdb.Row) *record {
	var buf [64]byte
	k, ok := t.appendPK(buf[:0], pk)
	if !ok {
		return nil
	}
	return d.rows[string(k)]
}

// uniqKey is the index key of value v in ix for workspace ws; ok is false
// for a null value (never conflicts, as in SQL).
func uniqKey(b []byte, ix *uniqIndex, ws string, v any) (string, []byte, bool) {
	if ix.global {
		ws = ""
	}
	b, ok := keyEnc(b, v)
	return ws, b, ok
}

// indexKey is r's key in ix ("" for null).
func (t *table) indexKey(ix *uniqIndex, r *record) (string, string) {
	ws := ""
	if !ix.global {
		ws = r.wsID()
	}
	return ws, columnEnc(r.enc, ix.field, ix.name)
}

// add stores r (caller holds the write lock).
func (t *table) add(r *record) {
	t.noteExpiry(r.expires)
	t.rows[t.keyOf(r)] = r
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
		if ws, k := t.indexKey(&t.indexes[i], r); k != "" {
			u := &t.uniq[i]
			m := u.of(ws)
			if m == nil {
				m = map[string]*record{}
				u.byWS[ws] = m
				if u.first == nil {
					u.firstWS, u.first = ws, m
				}
			}
			m[k] = r
		}
	}
	for _, x := range t.fks {
		x.insert(r)
	}
}

func (t *table) unindex(r *record) {
	for i := range t.indexes {
		if ws, k := t.indexKey(&t.indexes[i], r); k != "" {
			if m := t.uniq[i].of(ws); m[k] == r {
				delete(m, k)
			}
		}
	}
	for _, x := range t.fks {
		x.remove(r)
	}
}

// remove drops r (caller holds the write lock).
func (t *table) remove(r *record) {
	t.unindex(r)
	delete(t.rows, t.keyOf(r))
	t.sorted.remove(r)
}

// replace stores r in place of old, which has the same primary key: old
// out of the indexes with its row, r in with its own. old itself is left
// as it was (a frozen view may still hold it).
func (t *table) replace(old, r *record) {
	t.unindex(old)
	delete(t.rows, t.keyOf(old)) // re-keyed: no index keeps old's memory
	t.noteExpiry(r.expires)
	t.rows[t.keyOf(r)] = r
	t.sorted.swap(old, r)
	t.index(r)
}

// visible reports whether r is seen by a read with o at time now.
func (t *table) visible(r *record, o *kongdb.Options, now float64, wsScoped bool) bool {
	if r.expires != 0 && r.expires < now && !o.SkipTTL { // export still hides expired rows
		return false
	}
	if wsScoped && t.s.Workspaceable && !o.GlobalWorkspace && r.wsID() != o.Workspace {
		return false
	}
	return true
}

// out returns the row as the strategy hands it to the DAO: decoded into a
// new map (the caller owns it), with ws_id and the ttl (remaining whole
// seconds, or absolute on export).
// b boxes its strings and numbers (nil: a boxer for this row).
func (t *table) out(r *record, o *kongdb.Options, now float64, b *boxer) kongdb.Row {
	extra := 0
	if t.s.Workspaceable {
		extra++
	}
	if t.s.TTL {
		extra++
	}
	if b == nil {
		n, _ := uvarint(r.enc, 0)
		nb := newBoxer(int(n) + 2) // room for a ttl and a short array
		b = &nb
	}
	row := t.decodeRow(r.enc, extra, b)
	if t.s.Workspaceable {
		if r.ws != nil {
			row["ws_id"] = r.ws.v
		} else {
			row["ws_id"] = ""
		}
	}
	if t.s.TTL {
		switch {
		case r.expires == 0:
			row["ttl"] = schema.Null
		case o.Export:
			row["ttl"] = b.num(floor(r.expires))
		default:
			row["ttl"] = b.num(floor(r.expires - now))
		}
	}
	return row
}

// rowOf decodes r's stored row (no ws_id, no ttl).
func (t *table) rowOf(r *record) kongdb.Row {
	b := newBoxer(8)
	return t.decodeRow(r.enc, 0, &b)
}

func floor(f float64) float64 {
	i := float64(int64(f))
	if i > f {
		i--
	}
	return i
}

// hasTags is the tags filter (tags_cond "and" when more than one).
func (t *table) hasTags(r *record, tags []string, cond string) bool {
	match := 0
	if i, ok := t.fieldIdx["tags"]; ok {
		if enc := fieldEnc(r.enc, i, ""); enc != "" && enc[0] == tagArray {
			for _, want := range tags {
				n, j := uvarint(enc, 1)
				for ; n > 0; n-- {
					end := skipValue(enc, j)
					if s, ok := stringOf(enc[j:end]); ok && s == want {
						match++
						break
					}
					j = end
				}
			}
		}
	}
	if cond == "or" {
		return match > 0
	}
	return match == len(tags)
}
