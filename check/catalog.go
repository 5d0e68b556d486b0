package check

import (
	"context"
	"strings"

	"github.com/luahost/luahost/kongdb/postgres"
)

// catalog is what the migrations left in the scratch schema.
type catalog struct {
	tables map[string]*table
}

type column struct {
	name    string
	typ     string // format_type: text, uuid, bigint, timestamp with time zone, text[] ...
	notNull bool
	hasDef  bool
}

type constraint struct {
	kind     byte // p primary, u unique, f foreign
	name     string
	cols     []string
	refTable string
	refCols  []string
	onDelete byte // a no action, r restrict, c cascade, n set null, d set default
}

type index struct {
	name   string
	cols   []string // "" for an expression
	unique bool
}

type table struct {
	name        string
	columns     []*column
	byName      map[string]*column
	constraints []*constraint
	indexes     []*index
	triggers    map[string]string // trigger name -> function name
}

// readCatalog reads tables, columns, constraints, indexes and triggers of
// the connector's schema from pg_catalog.
func readCatalog(ctx context.Context, conn *postgres.Connector) (*catalog, error) {
	pool := conn.Pool()
	ns := conn.Schema()
	cat := &catalog{tables: map[string]*table{}}
	get := func(n string) *table {
		t := cat.tables[n]
		if t == nil {
			t = &table{name: n, byName: map[string]*column{}, triggers: map[string]string{}}
			cat.tables[n] = t
		}
		return t
	}
	rows, err := pool.Query(ctx, `
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum`, ns)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tn string
		col := &column{}
		if err := rows.Scan(&tn, &col.name, &col.typ, &col.notNull, &col.hasDef); err != nil {
			rows.Close()
			return nil, err
		}
		t := get(tn)
		t.columns = append(t.columns, col)
		t.byName[col.name] = col
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `
SELECT c.relname, k.conname, k.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o),
       COALESCE(r.relname::text, ''),
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o),
       k.confdeltype::text
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class r ON r.oid = k.confrelid
 WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f')
 ORDER BY c.relname, k.conname`, ns)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tn, kind, del string
		k := &constraint{}
		if err := rows.Scan(&tn, &k.name, &kind, &k.cols, &k.refTable, &k.refCols, &del); err != nil {
			rows.Close()
			return nil, err
		}
		k.kind = kind[0]
		if del != "" {
			k.onDelete = del[0]
		}
		get(tn).constraints = append(get(tn).constraints, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `
SELECT c.relname, i.relname, x.indisunique,
       ARRAY(SELECT COALESCE(a.attname::text, '') FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(n, o)
               LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n ORDER BY u.o)
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1`, ns)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tn string
		ix := &index{}
		if err := rows.Scan(&tn, &ix.name, &ix.unique, &ix.cols); err != nil {
			rows.Close()
			return nil, err
		}
		get(tn).indexes = append(get(tn).indexes, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `
SELECT c.relname, t.tgname, p.proname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE n.nspname = $1 AND NOT t.tgisinternal`, ns)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tn, tg, fn string
		if err := rows.Scan(&tn, &tg, &fn); err != nil {
			rows.Close()
			return nil, err
		}
		get(tn).triggers[tg] = fn
	}
	rows.Close()
	return cat, rows.Err()
}

// uniqueOn reports whether a unique constraint or unique index covers
// exactly cols (in any order).
func (t *table) uniqueOn(cols ...string) bool {
	for _, k := range t.constraints {
		if (k.kind == 'u' || k.kind == 'p') && sameSet(k.cols, cols) {
			return true
		}
	}
	for _, ix := range t.indexes {
		if ix.unique && sameSet(ix.cols, cols) {
			return true
		}
	}
	return false
}

// indexedFirst reports whether an index starts with col.
func (t *table) indexedFirst(col string) bool {
	for _, ix := range t.indexes {
		if len(ix.cols) > 0 && ix.cols[0] == col {
			return true
		}
	}
	return false
}

func (t *table) primaryKey() []string {
	for _, k := range t.constraints {
		if k.kind == 'p' {
			return k.cols
		}
	}
	return nil
}

// foreignKeyOn returns the foreign key whose columns include col.
func (t *table) foreignKeyOn(col string) *constraint {
	for _, k := range t.constraints {
		if k.kind != 'f' {
			continue
		}
		for _, c := range k.cols {
			if c == col {
				return k
			}
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[strings.Trim(x, `"`)]++
	}
	for _, x := range b {
		m[x]--
		if m[x] < 0 {
			return false
		}
	}
	return true
}
