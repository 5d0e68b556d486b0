package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

// CreateTableSQL writes a CREATE TABLE IF NOT EXISTS for s in Kong's layout
// (§4.1, §5.6): UUID/TEXT/BIGINT/BOOLEAN/JSONB/arrays, foreign <f>_<pk>
// columns with (fk, ws_id) foreign keys, UNIQUE (ws_id, f) for unique
// fields, cache_key, ws_id and ttl columns. Plugins bring their own
// migrations; this serves tests and development (Config.AutoCreateTables).
func CreateTableSQL(s *schema.Schema, lookup func(name string) *schema.Schema) string {
	t := s.Table()
	var defs, extra []string
	pkSet := map[string]bool{}
	for _, p := range s.PrimaryKey {
		pkSet[p] = true
	}
	var pkCols []string
	for _, f := range s.Fields {
		if f.Transient || f.Type == schema.TypeFunction {
			continue
		}
		if f.Type == schema.TypeForeign {
			ref := f.RefSchema
			if ref == nil && lookup != nil {
				ref = lookup(f.Reference)
			}
			refPK := []string{"id"}
			refTable := f.Reference
			refWs := false
			if ref != nil {
				if len(ref.PrimaryKey) > 0 {
					refPK = ref.PrimaryKey
				}
				refTable = ref.Table()
				refWs = ref.Workspaceable
			}
			var cols, refCols []string
			for _, p := range refPK {
				typ := "UUID"
				if ref != nil {
					if rf := ref.Field(p); rf != nil {
						typ = sqlType(rf)
					}
				}
				col := f.Name + "_" + p
				defs = append(defs, fmt.Sprintf("%s %s", quoteIdent(col), typ))
				cols = append(cols, quoteIdent(col))
				refCols = append(refCols, quoteIdent(p))
				if pkSet[f.Name] {
					pkCols = append(pkCols, quoteIdent(col))
				}
			}
			action := ""
			switch f.OnDelete {
			case "cascade":
				action = " ON DELETE CASCADE"
			case "null":
				action = " ON DELETE SET NULL"
			}
			if s.Workspaceable && refWs && f.OnDelete != "null" {
				cols = append(cols, `"ws_id"`)
				refCols = append(refCols, `"ws_id"`)
			}
			extra = append(extra, fmt.Sprintf("CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)%s",
				quoteIdent(t+"_"+f.Name+"_"+refPK[0]+"_fkey"), strings.Join(cols, ", "), quoteIdent(refTable), strings.Join(refCols, ", "), action))
			if f.Unique {
				extra = append(extra, uniqueDef(s, f, strings.Join(cols[:len(refPK)], ", ")))
			}
			continue
		}
		defs = append(defs, fmt.Sprintf("%s %s", quoteIdent(f.Name), sqlType(f)))
		if pkSet[f.Name] {
			pkCols = append(pkCols, quoteIdent(f.Name))
		}
		if f.Unique && !pkSet[f.Name] {
			extra = append(extra, uniqueDef(s, f, quoteIdent(f.Name)))
		}
	}
	if len(s.CacheKey) > 1 {
		defs = append(defs, `"cache_key" TEXT UNIQUE`)
	}
	if s.Workspaceable {
		defs = append(defs, `"ws_id" UUID REFERENCES "workspaces" ("id")`)
		extra = append(extra, fmt.Sprintf("CONSTRAINT %s UNIQUE (%s, \"ws_id\")", quoteIdent(t+"_"+strings.Join(s.PrimaryKey, "_")+"_ws_id_unique"), strings.Join(pkCols, ", ")))
	}
	if s.TTL {
		defs = append(defs, `"ttl" TIMESTAMP WITH TIME ZONE`)
	}
	defs = append(defs, fmt.Sprintf("PRIMARY KEY (%s)", strings.Join(pkCols, ", ")))
	defs = append(defs, extra...)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n  %s\n);\n", quoteIdent(t), strings.Join(defs, ",\n  "))
	if s.TTL {
		fmt.Fprintf(&b, "CREATE INDEX IF NOT EXISTS %s ON %s (\"ttl\");\n", quoteIdent(t+"_ttl_idx"), quoteIdent(t))
	}
	if f := s.Field("tags"); f != nil {
		fmt.Fprintf(&b, "CREATE INDEX IF NOT EXISTS %s ON %s USING GIN (\"tags\");\n", quoteIdent(t+"_tags_idx"), quoteIdent(t))
	}
	return b.String()
}

func uniqueDef(s *schema.Schema, f *schema.Field, cols string) string {
	name := s.Table() + "_" + f.Name + "_unique"
	if s.Workspaceable && !f.UniqueAcrossWS {
		return fmt.Sprintf("CONSTRAINT %s UNIQUE (\"ws_id\", %s)", quoteIdent(s.Table()+"_ws_id_"+f.Name+"_unique"), cols)
	}
	return fmt.Sprintf("CONSTRAINT %s UNIQUE (%s)", quoteIdent(name), cols)
}

// sqlType is the column type Kong's migrations use for a field (§4.1).
func sqlType(f *schema.Field) string {
	switch {
	case f.Timestamp:
		return "TIMESTAMP WITH TIME ZONE"
	case f.UUID:
		return "UUID"
	}
	switch f.Type {
	case schema.TypeInteger:
		return "BIGINT"
	case schema.TypeNumber:
		return "DOUBLE PRECISION"
	case schema.TypeBoolean:
		return "BOOLEAN"
	case schema.TypeMap, schema.TypeRecord, schema.TypeJSON:
		return "JSONB"
	case schema.TypeArray, schema.TypeSet:
		if f.Elements != nil {
			switch {
			case f.Elements.UUID:
				return "UUID[]"
			case f.Elements.Type == schema.TypeInteger:
				return "BIGINT[]"
			case f.Elements.Type == schema.TypeNumber:
				return "DOUBLE PRECISION[]"
			case f.Elements.Type == schema.TypeBoolean:
				return "BOOLEAN[]"
			case f.Elements.Type == schema.TypeRecord || f.Elements.Type == schema.TypeMap || f.Elements.Type == schema.TypeJSON:
				return "JSONB[]"
			}
		}
		return "TEXT[]"
	}
	return "TEXT"
}

// ensureTable creates s's table when Config.AutoCreateTables is set.
func (c *Connector) ensureTable(s *schema.Schema) error {
	ctx, cancel := c.timeout(context.Background())
	defer cancel()
	sql := CreateTableSQL(s, c.lookupSchema)
	if _, err := c.Query(ctx, sql); err != nil {
		return fmt.Errorf("creating table for %s: %w\n%s", s.Name, err, sql)
	}
	return nil
}
