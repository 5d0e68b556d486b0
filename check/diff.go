package check

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
)

// runDatabase applies every plugin's migrations to a scratch schema
// (Kong's core bootstrapped first), compares the tables with the
// plugins' entities, then runs the migrations a second time.
func runDatabase(ctx context.Context, cfg postgres.Config, plugins []*plugin) error {
	return Scratch(ctx, cfg, func(conn *postgres.Connector) error {
		failed := map[*plugin]map[string]bool{}
		for _, p := range plugins {
			failed[p] = p.applyMigrations(ctx, conn)
		}
		cat, err := readCatalog(ctx, conn)
		if err != nil {
			return fmt.Errorf("read scratch schema: %w", err)
		}
		for _, p := range plugins {
			p.diff(cat)
		}
		for _, p := range plugins {
			p.reentrancy(ctx, conn, failed[p])
		}
		return nil
	})
}

// applyMigrations runs the plugin's migrations (up, up_f, teardown) and
// its 0.x migrations/postgres.lua when it has no other; it returns the
// migrations that failed.
func (p *plugin) applyMigrations(ctx context.Context, conn *postgres.Connector) map[string]bool {
	failed := map[string]bool{}
	if len(p.desc.Migrations) > 0 {
		subs, err := p.h.Subsystems()
		if err != nil {
			p.migrationsBroken = true
			return failed // invalid modules: reported by lintMigrations
		}
		for _, s := range subs {
			if s.Name == p.name {
				p.sub = s
			}
		}
		if p.sub == nil {
			return failed
		}
		for _, me := range runEach(ctx, conn, p.h, p.sub) {
			failed[me.Migration] = true
			p.migrationsBroken = true
			rel := "migrations/" + me.Migration + ".lua"
			p.add(Finding{File: rel, Line: p.errorLine(me), Severity: Error, Code: "migration-failed",
				Message: fmt.Sprintf("%s fails on a fresh database: %s", stepName(me.Step), me.Msg),
				Fix:     "fix the step: `kong migrations up` stops here and the plugin's tables stay half made"})
		}
		return failed
	}
	if len(p.desc.EntityDefs) == 0 {
		return failed
	}
	legacy, bad := p.legacyMigrations()
	if bad != nil {
		p.add(*bad)
		return failed
	}
	for _, m := range legacy {
		if m.Func {
			p.add(Finding{File: "migrations/postgres.lua", Line: m.Line, Severity: Warning, Code: "legacy-migrations",
				Message: fmt.Sprintf("0.x migration '%s' is a Lua function of the old DAO: not run by check", m.Name),
				Fix:     "port it to an up_f of a migrations/init.lua migration"})
			continue
		}
		if _, err := conn.Query(ctx, "BEGIN;\n"+m.Up+"\n;COMMIT;"); err != nil {
			_, _ = conn.Query(ctx, "ROLLBACK;")
			failed[m.Name] = true
			p.add(Finding{File: "migrations/postgres.lua", Line: m.Line, Severity: Error, Code: "migration-failed",
				Message: fmt.Sprintf("0.x migration '%s' fails on a Kong 1.0+ database: %s", m.Name, err),
				Fix:     "port it to migrations/init.lua, written for Kong's current core tables"})
		}
	}
	return failed
}

func stepName(step string) string {
	switch step {
	case "up":
		return "up (SQL)"
	case "up_f", "teardown":
		return step + " (Lua)"
	case "record":
		return "recording the migration"
	}
	return "the migration"
}

// errorLine places a failed step: for up SQL with an error position
// (a syntax error, an unknown column), the line of the statement in the
// migration file; otherwise the line of the step's key.
func (p *plugin) errorLine(me *migrations.Error) int {
	line := p.stepLine(me.Migration, me.Step)
	var pe *pgconn.PgError
	if me.Step != "up" || !errors.As(me, &pe) || pe.Position <= 0 || p.sub == nil {
		return line
	}
	var up string
	for _, m := range p.sub.Migrations {
		if m.Name == me.Migration {
			up = m.Up
		}
	}
	// kongdb/postgres sends "BEGIN;\n" + up: the position counts
	// characters from there
	runes := []rune("BEGIN;\n" + strings.TrimRight(up, " \t\r\n"))
	idx := int(pe.Position) - 1
	if idx < 7 || idx >= len(runes) {
		return line
	}
	sqlLines := strings.Split(string(runes[7:]), "\n")
	n := strings.Count(string(runes[7:idx]), "\n")
	if n >= len(sqlLines) {
		return line
	}
	text := strings.TrimSpace(sqlLines[n])
	f := p.file("migrations/" + me.Migration + ".lua")
	if text == "" || f == nil {
		return line
	}
	return f.lineOfText(text, line)
}

func (p *plugin) stepLine(migration, step string) int {
	f := p.file("migrations/" + migration + ".lua")
	if f == nil {
		return 0
	}
	if step == "up" || step == "up_f" || step == "teardown" {
		if l := f.keyPathLine("postgres", step); l > 0 {
			return l
		}
	}
	if l := f.keyPathLine("postgres"); l > 0 {
		return l
	}
	return f.lastReturn()
}

// reentrancy runs every migration that succeeded once a second time, as
// `kong migrations up --force` (or a node that died before recording it)
// does: Kong requires migrations to be re-entrant.
func (p *plugin) reentrancy(ctx context.Context, conn *postgres.Connector, failed map[string]bool) {
	if p.sub == nil {
		return
	}
	again := &migrations.Subsystem{Name: p.sub.Name, Namespace: p.sub.Namespace}
	for _, m := range p.sub.Migrations {
		if !failed[m.Name] {
			again.Migrations = append(again.Migrations, m)
		}
	}
	for _, me := range runEach(ctx, conn, p.h, again) {
		p.add(Finding{File: "migrations/" + me.Migration + ".lua", Line: p.errorLine(me), Severity: Error, Code: "not-reentrant",
			Message: fmt.Sprintf("%s fails when run a second time (kong migrations up --force, or a node that died before recording it): %s", stepName(me.Step), me.Msg),
			Fix:     "make every step re-entrant: CREATE ... IF NOT EXISTS, DO $$ BEGIN ALTER TABLE ... ADD ...; EXCEPTION WHEN duplicate_column THEN END $$"})
	}
}

var typeMods = regexp.MustCompile(`\([^)]*\)`)

func normType(t string) string { return strings.TrimSpace(typeMods.ReplaceAllString(t, "")) }

// columnTypes returns the column types Kong's mapping gives a field
// (§4.1), those that work with a caveat, and the canonical one.
func columnTypes(f *schema.Field) (ok, caveat []string, want string) {
	switch {
	case f.Timestamp:
		return []string{"timestamp with time zone"}, []string{"timestamp without time zone"}, "TIMESTAMP WITH TIME ZONE"
	case f.UUID:
		return []string{"uuid"}, []string{"text", "character varying"}, "UUID"
	}
	switch f.Type {
	case schema.TypeString:
		return []string{"text", "character varying", "character", "citext"}, nil, "TEXT"
	case schema.TypeInteger:
		return []string{"bigint", "integer", "smallint", "numeric"}, nil, "BIGINT"
	case schema.TypeNumber:
		return []string{"double precision", "real", "numeric"}, []string{"bigint", "integer", "smallint"}, "DOUBLE PRECISION"
	case schema.TypeBoolean:
		return []string{"boolean"}, nil, "BOOLEAN"
	case schema.TypeMap, schema.TypeRecord, schema.TypeJSON:
		return []string{"jsonb", "json"}, nil, "JSONB"
	case schema.TypeArray, schema.TypeSet:
		if f.Elements == nil {
			return []string{"text[]"}, nil, "TEXT[]"
		}
		e := *f.Elements
		ok, caveat, want := columnTypes(&e)
		arr := func(ts []string) []string {
			out := make([]string, len(ts))
			for i, t := range ts {
				out[i] = t + "[]"
			}
			return out
		}
		if e.Type == schema.TypeArray || e.Type == schema.TypeSet {
			return []string{"jsonb[]"}, nil, "JSONB[]"
		}
		return arr(ok), arr(caveat), want + "[]"
	}
	return []string{"text"}, nil, "TEXT"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// diff compares the plugin's entities with the tables its migrations made.
func (p *plugin) diff(cat *catalog) {
	if p.migrationsBroken {
		return
	}
	for _, s := range p.schemas {
		p.diffEntity(s, cat)
	}
}

func (p *plugin) diffEntity(s *schema.Schema, cat *catalog) {
	name := s.Name
	t := cat.tables[s.Table()]
	fix := func(what string) string { return "add " + what + " in a new migration (never edit a released one)" }
	if t == nil {
		msg := fmt.Sprintf("no migration creates table '%s' of entity '%s': every DAO call fails (relation does not exist)", s.Table(), name)
		f := "add migrations/init.lua and a migration creating the table"
		if len(p.desc.Migrations) > 0 {
			f = fix("CREATE TABLE IF NOT EXISTS \"" + s.Table() + "\"")
		}
		p.add(Finding{File: "daos.lua", Line: p.entityLine(name), Severity: Error, Code: "table-missing", Message: msg, Fix: f})
		return
	}
	p.diffed = append(p.diffed, t.name)
	expected := map[string]bool{}
	var pkCols []string
	pkSet := map[string]bool{}
	for _, k := range s.PrimaryKey {
		pkSet[k] = true
	}
	for _, f := range s.Fields {
		if f.Transient || f.Type == schema.TypeFunction {
			continue
		}
		line := p.fieldLine(name, f.Name)
		if f.Type == schema.TypeForeign {
			ref := f.RefSchema
			refPK := []string{"id"}
			refTable := f.Reference
			if ref != nil {
				refPK = ref.PrimaryKey
				refTable = ref.Table()
			}
			var cols []string
			for _, pk := range refPK {
				col := f.Name + "_" + pk
				cols = append(cols, col)
				expected[col] = true
				if pkSet[f.Name] {
					pkCols = append(pkCols, col)
				}
				c := t.byName[col]
				if c == nil {
					p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "column-missing",
						Message: fmt.Sprintf("entity '%s': foreign field '%s' needs column '%s' in table '%s': inserts and reads fail", name, f.Name, col, s.Table()),
						Fix:     fix(fmt.Sprintf("\"%s\" UUID", col))})
					continue
				}
				var pkField *schema.Field
				if ref != nil {
					pkField = ref.Field(pk)
				}
				if pkField != nil {
					p.checkType(s, f.Name, col, pkField, c, line)
				}
			}
			if t.byName[cols[0]] == nil {
				continue
			}
			fk := t.foreignKeyOn(cols[0])
			switch {
			case fk == nil:
				p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "fk-missing",
					Message: fmt.Sprintf("entity '%s': no FOREIGN KEY on '%s' referencing '%s': rows may point at nothing, and deleting a %s does not %s its rows", name, cols[0], refTable, f.Reference, onDeleteVerb(f.OnDelete)),
					Fix:     fix(fmt.Sprintf("FOREIGN KEY (\"%s\"%s) REFERENCES \"%s\" (\"id\"%s)%s", cols[0], wsCol(s, ref), refTable, wsCol(s, ref), onDeleteSQL(f.OnDelete)))})
			case fk.refTable != refTable:
				p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "fk-missing",
					Message: fmt.Sprintf("entity '%s': the foreign key on '%s' references '%s', not '%s'", name, cols[0], fk.refTable, refTable),
					Fix:     fix("a foreign key to " + refTable)})
			case !onDeleteMatches(f.OnDelete, fk.onDelete):
				p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "fk-on-delete",
					Message: fmt.Sprintf("entity '%s': field '%s' declares on_delete = %s, but the foreign key '%s' is ON DELETE %s: the database, not the DAO, decides what a delete does", name, f.Name, orDefault(f.OnDelete, "(restrict)"), fk.name, pgOnDelete(fk.onDelete)),
					Fix:     fix(fmt.Sprintf("the foreign key with%s (drop and re-create the constraint)", orDefault(onDeleteSQL(f.OnDelete), " ON DELETE NO ACTION")))})
			}
			if f.Unique {
				p.checkUnique(s, t, f, cols[0], line)
			}
			continue
		}
		expected[f.Name] = true
		if pkSet[f.Name] {
			pkCols = append(pkCols, f.Name)
		}
		c := t.byName[f.Name]
		if c == nil {
			_, _, want := columnTypes(f)
			p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "column-missing",
				Message: fmt.Sprintf("entity '%s': field '%s' has no column in table '%s': every insert and select of the DAO fails", name, f.Name, s.Table()),
				Fix:     fix(fmt.Sprintf("ALTER TABLE \"%s\" ADD \"%s\" %s", s.Table(), f.Name, want))})
			continue
		}
		p.checkType(s, f.Name, f.Name, f, c, line)
		if f.Unique && !pkSet[f.Name] {
			p.checkUnique(s, t, f, f.Name, line)
		}
		if f.Name == "tags" {
			hasTrigger := false
			for _, fn := range t.triggers {
				if fn == "sync_tags" {
					hasTrigger = true
				}
			}
			if !hasTrigger {
				p.add(Finding{File: "daos.lua", Line: line, Severity: Warning, Code: "tags-trigger",
					Message: fmt.Sprintf("entity '%s' has tags, but no trigger on '%s' calls sync_tags(): its rows never appear under /tags", name, s.Table()),
					Fix:     fix(fmt.Sprintf("CREATE TRIGGER \"%s_sync_tags_trigger\" AFTER INSERT OR UPDATE OF \"tags\" OR DELETE ON \"%s\" FOR EACH ROW EXECUTE PROCEDURE sync_tags()", s.Table(), s.Table()))})
			}
		}
	}
	entityScope := p.file("daos.lua").tableWith("name", name)
	keyLine := func(k string) int {
		if l := p.file("daos.lua").keyLine(entityScope, k); l > 0 {
			return l
		}
		return p.entityLine(name)
	}
	if got := t.primaryKey(); !sameSet(got, pkCols) {
		msg := fmt.Sprintf("entity '%s': primary key is (%s) but table '%s' has ", name, strings.Join(pkCols, ", "), s.Table())
		if got == nil {
			msg += "none: duplicate rows are accepted and select/update/delete by primary key may match several"
		} else {
			msg += "(" + strings.Join(got, ", ") + ")"
		}
		p.add(Finding{File: "daos.lua", Line: keyLine("primary_key"), Severity: Error, Code: "primary-key", Message: msg,
			Fix: fix("PRIMARY KEY (" + strings.Join(quoteAll(pkCols), ", ") + ")")})
	}
	if len(s.CacheKey) > 1 {
		expected["cache_key"] = true
		switch c := t.byName["cache_key"]; {
		case c == nil:
			p.add(Finding{File: "daos.lua", Line: keyLine("cache_key"), Severity: Error, Code: "cache-key-column",
				Message: fmt.Sprintf("entity '%s' has a composite cache_key (%s): the DAO writes a cache_key column, which table '%s' lacks", name, strings.Join(s.CacheKey, ", "), s.Table()),
				Fix:     fix(fmt.Sprintf("ALTER TABLE \"%s\" ADD \"cache_key\" TEXT UNIQUE", s.Table()))})
		case !t.uniqueOn("cache_key"):
			p.add(Finding{File: "daos.lua", Line: keyLine("cache_key"), Severity: Error, Code: "cache-key-not-unique",
				Message: fmt.Sprintf("entity '%s': cache_key fields (%s) are not unique together: no UNIQUE constraint on '%s'.cache_key, so two rows can share a cache key and select_by_cache_key returns either", name, strings.Join(s.CacheKey, ", "), s.Table()),
				Fix:     fix(fmt.Sprintf("a UNIQUE constraint on \"%s\" (\"cache_key\")", s.Table()))})
		}
	}
	if s.Workspaceable {
		expected["ws_id"] = true
		if t.byName["ws_id"] == nil {
			p.add(Finding{File: "daos.lua", Line: keyLine("workspaceable"), Severity: Error, Code: "ws-id-missing",
				Message: fmt.Sprintf("entity '%s' is workspaceable, but table '%s' has no ws_id column: every DAO call fails", name, s.Table()),
				Fix:     fix(fmt.Sprintf("ALTER TABLE \"%s\" ADD \"ws_id\" UUID REFERENCES \"workspaces\" (\"id\")", s.Table()))})
		}
	}
	if s.TTL {
		expected["ttl"] = true
		switch c := t.byName["ttl"]; {
		case c == nil:
			p.add(Finding{File: "daos.lua", Line: keyLine("ttl"), Severity: Error, Code: "ttl-column",
				Message: fmt.Sprintf("entity '%s' has ttl = true, but table '%s' has no ttl column: every DAO call fails", name, s.Table()),
				Fix:     fix(fmt.Sprintf("ALTER TABLE \"%s\" ADD \"ttl\" TIMESTAMP WITH TIME ZONE", s.Table()))})
		case !strings.HasPrefix(normType(c.typ), "timestamp"):
			p.add(Finding{File: "daos.lua", Line: keyLine("ttl"), Severity: Error, Code: "column-type",
				Message: fmt.Sprintf("entity '%s': ttl column of '%s' is %s; Kong stores the expiry as TIMESTAMP WITH TIME ZONE", name, s.Table(), c.typ),
				Fix:     fix("the ttl column as TIMESTAMP WITH TIME ZONE")})
		case !t.indexedFirst("ttl"):
			p.add(Finding{File: "daos.lua", Line: keyLine("ttl"), Severity: Warning, Code: "ttl-index",
				Message: fmt.Sprintf("entity '%s' has ttl = true, but no index on '%s' (ttl): every read filters on ttl and the cleanup of expired rows scans the table", name, s.Table()),
				Fix:     fix(fmt.Sprintf("CREATE INDEX IF NOT EXISTS \"%s_ttl_idx\" ON \"%s\" (\"ttl\")", s.Table(), s.Table()))})
		}
	}
	for _, c := range t.columns {
		if expected[c.name] {
			continue
		}
		file, line := p.columnSource(s.Table(), c.name)
		if c.notNull && !c.hasDef {
			p.add(Finding{File: file, Line: line, Severity: Error, Code: "unknown-column",
				Message: fmt.Sprintf("table '%s' has column '%s' (NOT NULL, no default) that entity '%s' does not declare: the DAO never writes it, so every insert fails", s.Table(), c.name, name),
				Fix:     "declare the field in daos.lua, or drop the column (or its NOT NULL) in a new migration"})
			continue
		}
		p.add(Finding{File: file, Line: line, Severity: Warning, Code: "unknown-column",
			Message: fmt.Sprintf("table '%s' has column '%s' that entity '%s' does not declare: the DAO never reads or writes it", s.Table(), c.name, name),
			Fix:     "declare the field in daos.lua, or drop the column in a new migration's teardown"})
	}
}

func (p *plugin) checkType(s *schema.Schema, field, col string, f *schema.Field, c *column, line int) {
	ok, caveat, want := columnTypes(f)
	got := normType(c.typ)
	switch {
	case contains(ok, got):
	case contains(caveat, got):
		p.add(Finding{File: "daos.lua", Line: line, Severity: Warning, Code: "column-type",
			Message: fmt.Sprintf("entity '%s': column '%s' is %s; Kong maps field '%s' to %s", s.Name, col, c.typ, field, want),
			Fix:     fmt.Sprintf("ALTER TABLE \"%s\" ALTER \"%s\" TYPE %s in a new migration", s.Table(), col, want)})
	default:
		p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "column-type",
			Message: fmt.Sprintf("entity '%s': column '%s' is %s, incompatible with field '%s' (%s); Kong maps it to %s", s.Name, col, c.typ, field, f.Type, want),
			Fix:     fmt.Sprintf("ALTER TABLE \"%s\" ALTER \"%s\" TYPE %s in a new migration", s.Table(), col, want)})
	}
}

// checkUnique wants UNIQUE (ws_id, col) for a unique field of a
// workspaceable entity (Kong's per-workspace uniqueness; upsert_by_<f> is
// ON CONFLICT (ws_id, col)), UNIQUE (col) otherwise.
func (p *plugin) checkUnique(s *schema.Schema, t *table, f *schema.Field, col string, line int) {
	perWs := s.Workspaceable && !f.UniqueAcrossWS
	if perWs && t.byName["ws_id"] == nil {
		return // ws-id-missing says it
	}
	want := []string{col}
	if perWs {
		want = []string{"ws_id", col}
	}
	if t.uniqueOn(want...) {
		return
	}
	msg := fmt.Sprintf("entity '%s': field '%s' is unique, but table '%s' has no UNIQUE (%s): ", s.Name, f.Name, s.Table(), strings.Join(want, ", "))
	if perWs && t.uniqueOn(col) {
		msg += fmt.Sprintf("UNIQUE (%s) alone makes it unique across workspaces, and upsert_by_%s (ON CONFLICT (ws_id, %s)) fails", col, f.Name, col)
	} else {
		msg += fmt.Sprintf("duplicates are accepted and select_by_%s returns any of them", f.Name)
	}
	p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "unique-missing", Message: msg,
		Fix: fmt.Sprintf("add UNIQUE (%s) to \"%s\" in a new migration", strings.Join(quoteAll(want), ", "), s.Table())})
}

// columnSource finds the migration that mentions a column of a table.
func (p *plugin) columnSource(tableName, col string) (string, int) {
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_])"?` + regexp.QuoteMeta(col) + `"?([^A-Za-z0-9_]|$)`)
	for _, m := range p.desc.Migrations {
		rel := "migrations/" + m + ".lua"
		f := p.file(rel)
		if f == nil || !strings.Contains(string(f.Src), tableName) {
			continue
		}
		for i, l := range strings.Split(string(f.Src), "\n") {
			if re.MatchString(l) {
				return rel, i + 1
			}
		}
	}
	return "daos.lua", p.entityLine(tableName)
}

func quoteAll(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = `"` + c + `"`
	}
	return out
}

func wsCol(s, ref *schema.Schema) string {
	if s.Workspaceable && ref != nil && ref.Workspaceable {
		return `, "ws_id"`
	}
	return ""
}

func onDeleteVerb(od string) string {
	switch od {
	case "cascade":
		return "delete"
	case "null":
		return "clear the reference of"
	}
	return "protect"
}

func onDeleteSQL(od string) string {
	switch od {
	case "cascade":
		return " ON DELETE CASCADE"
	case "null":
		return " ON DELETE SET NULL"
	}
	return ""
}

func onDeleteMatches(od string, pg byte) bool {
	switch od {
	case "cascade":
		return pg == 'c'
	case "null":
		return pg == 'n'
	}
	return pg == 'a' || pg == 'r'
}

func pgOnDelete(b byte) string {
	switch b {
	case 'c':
		return "CASCADE"
	case 'n':
		return "SET NULL"
	case 'r':
		return "RESTRICT"
	case 'd':
		return "SET DEFAULT"
	}
	return "NO ACTION"
}
