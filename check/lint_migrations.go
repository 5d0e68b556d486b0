package check

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
)

// lintMigrations checks each migration module's keys against Kong's
// migration schema (3.x: { postgres = { up, up_f, teardown } }): a key
// Kong does not know (the `postgresql` of Kong's own docs,
// Kong/docs.konghq.com#5584) makes Kong refuse the migration.
func (p *plugin) lintMigrations() {
	for _, name := range p.desc.Migrations {
		rel := "migrations/" + name + ".lua"
		f := p.file(rel)
		def := p.desc.MigrationDefs[name]
		if def == nil || def["legacy"] == true { // 0.x migrations/postgres.lua: lintLegacyMigrations
			continue
		}
		keys := sortedKeys(def)
		for _, k := range keys {
			switch k {
			case "postgres", "name":
			case "cassandra":
				p.add(Finding{File: rel, Line: f.keyPathLine("cassandra"), Severity: Warning, Code: "unknown-key",
					Message: "migration has a 'cassandra' key: Kong 3.4 and later refuse it (cassandra: unknown field); only Kong 3.3 and earlier need it",
					Fix:     "drop the cassandra part if the plugin targets Kong 3.4+"})
			case "postgresql":
				p.add(Finding{File: rel, Line: f.keyPathLine(k), Severity: Error, Code: "unknown-key",
					Message: "migration key 'postgresql' is not Kong's: Kong refuses the migration (postgresql: unknown field) and none of its SQL runs",
					Kong:    "Kong/docs.konghq.com#5584", Fix: "rename the key to 'postgres'"})
			default:
				p.add(Finding{File: rel, Line: f.keyPathLine(k), Severity: Error, Code: "unknown-key",
					Message: fmt.Sprintf("migration key '%s' is not Kong's: Kong refuses the migration (%s: unknown field)", k, k),
					Kong:    "Kong/docs.konghq.com#5584", Fix: "a migration module returns { postgres = { up = SQL, up_f = fn, teardown = fn } }"})
			}
		}
		pg, ok := def["postgres"].(map[string]any)
		if !ok {
			if _, has := def["postgres"]; has {
				p.add(Finding{File: rel, Line: f.keyPathLine("postgres"), Severity: Error, Code: "invalid-migration",
					Message: "migration's 'postgres' is not a table", Fix: "postgres = { up = [[ SQL ]] }"})
			} else if _, typo := def["postgresql"]; !typo {
				p.add(Finding{File: rel, Line: f.lastReturn(), Severity: Error, Code: "invalid-migration",
					Message: "migration has no 'postgres' part: nothing runs on PostgreSQL", Fix: "return { postgres = { up = [[ SQL ]] } }"})
			}
			continue
		}
		empty := true
		for _, k := range sortedKeys(pg) {
			v := pg[k]
			line := f.keyPathLine("postgres", k)
			switch k {
			case "up":
				s, ok := v.(string)
				if !ok {
					p.add(Finding{File: rel, Line: line, Severity: Error, Code: "invalid-migration",
						Message: "postgres.up is not a string of SQL", Fix: "up = [[ SQL ]]; Lua steps go in up_f"})
					continue
				}
				if strings.TrimSpace(s) != "" {
					empty = false
				}
			case "up_f", "teardown":
				if _, ok := v.(*schema.Func); !ok {
					p.add(Finding{File: rel, Line: line, Severity: Error, Code: "invalid-migration",
						Message: fmt.Sprintf("postgres.%s is not a function", k), Fix: k + " = function(connector) ... end"})
					continue
				}
				empty = false
			default:
				p.add(Finding{File: rel, Line: line, Severity: Error, Code: "unknown-key",
					Message: fmt.Sprintf("migration key 'postgres.%s' is not Kong's: Kong refuses the migration (postgres.%s: unknown field)", k, k),
					Kong:    "Kong/docs.konghq.com#5584", Fix: "keep to up (SQL), up_f and teardown (functions of the connector)"})
			}
		}
		if empty {
			p.add(Finding{File: rel, Line: f.keyPathLine("postgres"), Severity: Error, Code: "invalid-migration",
				Message: "migration does nothing: Kong requires at least one of postgres.up, postgres.up_f, postgres.teardown",
				Fix:     "remove the migration from migrations/init.lua, or give it a step"})
		}
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Statements that fail when a migration runs a second time (`kong
// migrations up --force`, or a node that died before recording it).
var nonReentrant = []struct {
	re  *regexp.Regexp
	fix string
}{
	{regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(?:"?\w+"?\.)?"?\w`), `CREATE TABLE IF NOT EXISTS`},
	{regexp.MustCompile(`(?i)\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?"?\w`), `CREATE INDEX IF NOT EXISTS`},
}

var (
	ifNotExists = regexp.MustCompile(`(?i)^\s*IF\s+NOT\s+EXISTS`)
	createHead  = regexp.MustCompile(`(?i)^CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(?:CONCURRENTLY\s+)?`)
)

// staticReentrancy reports the statements of up SQL that cannot run twice
// (used when no database is at hand; with one, the migrations are run
// twice instead).
func (p *plugin) staticReentrancy() {
	for _, name := range p.desc.Migrations {
		pg, _ := p.desc.MigrationDefs[name]["postgres"].(map[string]any)
		up, _ := pg["up"].(string)
		if up == "" || p.desc.MigrationDefs[name]["legacy"] == true {
			continue
		}
		rel := "migrations/" + name + ".lua"
		f := p.file(rel)
		base := f.keyPathLine("postgres", "up")
		for _, nr := range nonReentrant {
			for _, loc := range nr.re.FindAllStringIndex(up, -1) {
				m := up[loc[0]:loc[1]]
				// the keyword pair ends before the name: look behind it
				head := createHead.FindString(m)
				if ifNotExists.MatchString(up[loc[0]+len(head):]) {
					continue
				}
				line := base
				if f != nil {
					line = f.lineOfText(firstLine(up[loc[0]:]), base)
				}
				p.add(Finding{File: rel, Line: line, Severity: Warning, Code: "not-reentrant",
					Message: fmt.Sprintf("'%s' fails when the migration runs again (kong migrations up --force, or a crash before it was recorded)", strings.Join(strings.Fields(firstLine(up[loc[0]:])), " ")),
					Fix:     "write " + nr.fix + " (Kong's migrations must be re-entrant)"})
			}
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return strings.TrimSpace(s)
}

// lineOfText returns the first line at or after `after` holding text.
func (f *luaFile) lineOfText(text string, after int) int {
	for i, l := range strings.Split(string(f.Src), "\n") {
		if i+1 >= after && strings.Contains(l, text) {
			return i + 1
		}
	}
	return after
}

// legacyTimeout bounds the evaluation of a 0.x migrations file.
var legacyTimeout = 5 * time.Second

// legacyMigration is one entry of a 0.x migrations/postgres.lua.
type legacyMigration struct {
	Name string
	Up   string // "" when up is a function
	Func bool
	Line int
}

// legacyMigrations evaluates migrations/postgres.lua (Kong ≤ 0.14: an array
// of { name, up = SQL | function, down }) in a bare Lua state.
func (p *plugin) legacyMigrations() ([]legacyMigration, *Finding) {
	const rel = "migrations/postgres.lua"
	src, err := os.ReadFile(p.dir + "/" + rel)
	if err != nil {
		return nil, nil
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	luavm.OpenLibs(L, nil)
	// a file that loops must not hang the check
	ctx, cancel := context.WithTimeout(context.Background(), legacyTimeout)
	defer cancel()
	luavm.SetContext(L, ctx)
	proto, err := luavm.Compile("kong/plugins/"+p.name+"/"+rel, src)
	if err != nil {
		return nil, &Finding{File: rel, Severity: Error, Code: "load-error", Message: err.Error(), Fix: "fix the syntax error"}
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, &Finding{File: rel, Severity: Warning, Code: "legacy-migrations", Message: "cannot be evaluated alone: " + err.Error(),
			Fix: "0.x migrations that need other modules cannot be checked; port them to migrations/init.lua"}
	}
	t, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return nil, &Finding{File: rel, Severity: Error, Code: "load-error", Message: "migrations/postgres.lua must return a table"}
	}
	f := p.file(rel)
	var out []legacyMigration
	for i := 1; i <= t.Len(); i++ {
		e, ok := t.RawGetInt(i).(*lua.LTable)
		if !ok {
			continue
		}
		m := legacyMigration{Name: lua.LVAsString(e.RawGetString("name"))}
		switch up := e.RawGetString("up").(type) {
		case lua.LString:
			m.Up = string(up)
		case *lua.LFunction:
			m.Func = true
		}
		if t := f.tableWith("name", m.Name); t != nil {
			if k, ok := t.key("up"); ok {
				m.Line = k.Line
			} else {
				m.Line = t.Line
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// lintLegacyMigrations: Kong 1.0 and later never read migrations/postgres.lua.
func (p *plugin) lintLegacyMigrations() {
	const rel = "migrations/postgres.lua"
	if _, err := os.Stat(p.dir + "/" + rel); err != nil {
		return
	}
	if _, err := os.Stat(p.dir + "/migrations/init.lua"); err == nil {
		p.add(Finding{File: rel, Line: 1, Severity: Warning, Code: "legacy-migrations",
			Message: "migrations/postgres.lua is a Kong 0.x migrations file: Kong 1.0 and later ignore it (migrations/init.lua is used)",
			Fix:     "delete it once every installation has run migrations/init.lua's migrations"})
		return
	}
	if len(p.desc.EntityDefs) == 0 {
		p.add(Finding{File: rel, Line: 1, Severity: Warning, Code: "legacy-migrations",
			Message: "migrations/postgres.lua is a Kong 0.x migrations file: Kong 1.0 and later never run it",
			Fix:     "delete it, or port what it does to migrations/init.lua"})
		return
	}
	p.add(Finding{File: rel, Line: 1, Severity: Error, Code: "legacy-migrations",
		Message: "migrations/postgres.lua is a Kong 0.x migrations file: Kong 1.0 and later ignore it, so the plugin's tables are never created",
		Kong:    "Kong/kong#4280",
		Fix:     "port it to migrations/init.lua listing modules that return { postgres = { up = SQL } }"})
}
