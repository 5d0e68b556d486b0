package postgres

import (
	"fmt"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

// colKind says how a column's value is bound and read (§4.1).
type colKind int

const (
	kPlain     colKind = iota // string, number, boolean: bound as is
	kInteger                  // integer: bound as int64
	kTimestamp                // timestamp = true: TIMESTAMPTZ, read as epoch seconds
	kJSON                     // map, record, json: JSONB
	kArray                    // array, set: TEXT[] / UUID[] / JSONB[]
	kForeign                  // one PK component of a foreign field: <f>_<pk>
)

// column is one SQL column of an entity table.
type column struct {
	name  string // SQL column name
	field *schema.Field
	kind  colKind
	fkPK  string // kForeign: the referenced PK field name
	pk    bool   // part of the primary key
}

// tableLayout is the column layout of one schema, computed once.
type tableLayout struct {
	table    string // quoted table name
	cols     []column
	pkCols   []int            // indexes into cols, in PK order
	byField  map[string][]int // field name -> its column indexes
	cacheKey bool             // composite cache_key column
	ws       bool
	ttl      bool
	// sel and selExport are the select expression lists (read back in the
	// order cols..., ws_id?, ttl?).
	sel, selExport string
	createdAt      bool // auto timestamp created_at exists (ttl base on insert)
	updatedAt      bool
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// buildLayout maps a schema onto Kong's columns. pkOf returns the primary key
// of a referenced entity (default {"id"}).
func buildLayout(s *schema.Schema, pkOf func(ref string) []string) (*tableLayout, error) {
	l := &tableLayout{table: quoteIdent(s.Table()), byField: map[string][]int{}}
	isPK := map[string]bool{}
	for _, p := range s.PrimaryKey {
		isPK[p] = true
	}
	for _, f := range s.Fields {
		if f.Transient {
			continue
		}
		switch f.Type {
		case schema.TypeForeign:
			refPK := pkOf(f.Reference)
			if f.RefSchema != nil && len(f.RefSchema.PrimaryKey) > 0 {
				refPK = f.RefSchema.PrimaryKey
			}
			for _, p := range refPK {
				l.byField[f.Name] = append(l.byField[f.Name], len(l.cols))
				l.cols = append(l.cols, column{name: f.Name + "_" + p, field: f, kind: kForeign, fkPK: p, pk: isPK[f.Name]})
			}
			continue
		case schema.TypeFunction:
			continue
		}
		k := kPlain
		switch {
		case f.Timestamp:
			k = kTimestamp
			if f.Name == "created_at" {
				l.createdAt = true
			}
			if f.Name == "updated_at" {
				l.updatedAt = true
			}
		case f.Type == schema.TypeInteger:
			k = kInteger
		case f.Type == schema.TypeMap || f.Type == schema.TypeRecord || f.Type == schema.TypeJSON:
			k = kJSON
		case f.Type == schema.TypeArray || f.Type == schema.TypeSet:
			k = kArray
		}
		l.byField[f.Name] = append(l.byField[f.Name], len(l.cols))
		l.cols = append(l.cols, column{name: f.Name, field: f, kind: k, pk: isPK[f.Name]})
	}
	for _, p := range s.PrimaryKey {
		idx, ok := l.byField[p]
		if !ok {
			return nil, fmt.Errorf("schema %q: primary key field %q has no column", s.Name, p)
		}
		l.pkCols = append(l.pkCols, idx...)
	}
	l.cacheKey = len(s.CacheKey) > 1
	l.ws = s.Workspaceable
	l.ttl = s.TTL
	l.sel = l.selectList(false)
	l.selExport = l.selectList(true)
	return l, nil
}

func (l *tableLayout) selectList(export bool) string {
	var b strings.Builder
	for i, c := range l.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		q := quoteIdent(c.name)
		if c.kind == kTimestamp {
			fmt.Fprintf(&b, "EXTRACT(EPOCH FROM %s AT TIME ZONE 'UTC')::float8 AS %s", q, q)
		} else {
			b.WriteString(q)
		}
	}
	if l.ws {
		b.WriteString(`, "ws_id"`)
	}
	if l.ttl {
		if export {
			b.WriteString(`, FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC')))::float8 AS "ttl"`)
		} else {
			b.WriteString(`, FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl"`)
		}
	}
	return b.String()
}

// pkList is the quoted PK column list "(a", "b)".
func (l *tableLayout) pkList() string {
	names := make([]string, len(l.pkCols))
	for i, ci := range l.pkCols {
		names[i] = quoteIdent(l.cols[ci].name)
	}
	return strings.Join(names, ", ")
}

// fieldCols returns the quoted column names of a field (several for a
// foreign field with a composite PK), and "cache_key" for the composite key.
func (l *tableLayout) fieldCols(field string) ([]int, bool) {
	idx, ok := l.byField[field]
	return idx, ok
}
