package host

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// API is one Kong API a plugin uses that not every Kong version accepts.
type API struct {
	Name       string `json:"api"`
	Generation string `json:"generation"` // the Kong versions that have it: "0.x", "0.x-2.x", "1.0-3.3", "PDK 0.14+", "1.0+", "1.2+", "3.3+"
	// Since / Until bound the Kong versions that accept it: Since is the
	// first (empty: every version), Until the first that refuses it
	// (empty: none yet).
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
	// Refused says how a Kong outside the range treats it ("removed in
	// 3.0.0: the plugin fails to load").
	Refused string `json:"refused"`
	// Where is the first place seen (file:line, or the file).
	Where string `json:"where"`
}

// Generations is the report of one plugin: the APIs it uses and the Kong
// versions that accept all of them.
type Generations struct {
	Plugin      string   `json:"plugin"`
	Generations []string `json:"generations"`
	APIs        []API    `json:"apis"`
	// Since / Until: every Kong from Since up to (not including) Until
	// accepts the plugin; Accepted is false when no version does.
	Since    string `json:"since,omitempty"`
	Until    string `json:"until,omitempty"`
	Accepted bool   `json:"accepted_by_some_kong"`
}

// apiRule recognises one API in a plugin's Lua sources. The facts come
// from Kong's CHANGELOG-OLD.md / CHANGELOG.md and its git history (Kong/kong
// at 22246ef2): each rule cites its entry.
type apiRule struct {
	name, generation, since, until, refused string
	re                                      *regexp.Regexp
}

var apiRules = []apiRule{
	// 0.11.0: "The hooks.lua module for custom plugins is dropped, along with
	// the database_cache.lua module."
	{"kong.tools.database_cache", "0.x", "", "0.11.0", "removed in 0.11.0: require fails, the plugin does not load",
		regexp.MustCompile(`kong\.tools\.database_cache`)},
	// 1.0.0: "The old DAO implementation is removed" (kong/dao/factory.lua
	// deleted before 1.0.0rc4).
	{"0.x DAO (dao_factory, singletons.dao, find_all/find_by_keys/find_page)", "0.x", "", "1.0.0",
		"removed in 1.0.0: kong.dao and its find_* calls no longer exist",
		regexp.MustCompile(`\bdao_factory\b|singletons\.dao\b|\bkong\.dao\b|:find_all\s*\(|:find_by_keys\s*\(|:find_page\s*\(|self\.dao\b`)},
	// 1.0.0: "The kong.tools.responses module was removed", "The
	// kong.api.crud_helpers module was removed".
	{"kong.tools.responses", "0.x", "", "1.0.0", "removed in 1.0.0: require fails",
		regexp.MustCompile(`kong\.tools\.responses`)},
	{"kong.api.crud_helpers", "0.x", "", "1.0.0", "removed in 1.0.0: require fails",
		regexp.MustCompile(`kong\.api\.crud_helpers`)},
	// 3.0.0: kong/plugins/base_plugin.lua deleted (commit d569af65, in
	// 3.0.0); CHANGELOG-OLD: "Old BasePlugin is deprecated".
	{"BasePlugin (kong.plugins.base_plugin)", "0.x-2.x", "", "3.0.0", "removed in 3.0.0: require fails, the plugin does not load",
		regexp.MustCompile(`kong\.plugins\.base_plugin`)},
	// 3.0.0: "The Kong singletons module "kong.singletons" was removed".
	{"kong.singletons", "0.x-2.x", "", "3.0.0", "removed in 3.0.0: require fails",
		regexp.MustCompile(`kong\.singletons`)},
	// 0.14.0: "This release introduces the first version of the Plugin
	// Development Kit".
	{"PDK (kong.request, kong.response, kong.service, kong.log, ...)", "PDK 0.14+", "0.14.0", "",
		"introduced in 0.14.0: older Kong has no global kong.* PDK",
		regexp.MustCompile(`\bkong\.(request|response|service|client|log|ip|node|router|nginx|table)\.[a-z_]+`)},
	// 3.3.0: kong.tools.queue (Kong's queue, typedefs.queue).
	{"kong.tools.queue", "3.3+", "3.3.0", "", "introduced in 3.3.0: require fails on older Kong",
		regexp.MustCompile(`kong\.tools\.queue["']`)},
}

// Facts read from the plugin's description rather than its source.
var (
	// 0.11.0: hooks.lua dropped.
	ruleHooks = API{Name: "hooks.lua", Generation: "0.x", Until: "0.11.0",
		Refused: "dropped in 0.11.0: never run, so its cache invalidations silently stop"}
	// 0.15.0/1.0.0: "Custom plugins must use the new migration framework
	// from 0.15 onwards."
	ruleOldMigrations = API{Name: "0.x migrations (migrations/postgres.lua, migrations/cassandra.lua)", Generation: "0.x",
		Until: "0.15.0", Refused: "replaced in 0.15.0 by migrations/init.lua: never run, its tables are never made"}
	// 3.0.0: "DAOs in plugins must be listed in an array ... Loading them in
	// a hash-like table is no longer supported." (#8988)
	ruleMapDaos = API{Name: "map-form daos.lua", Generation: "0.x-2.x", Until: "3.0.0",
		Refused: "refused since 3.0.0: DAOs must be listed in an array"}
	// 3.4.0: Cassandra dropped; the migrations schema has no cassandra field
	// (kong/db/schema/others/migrations.lua, commit 1148c187).
	ruleCassandra = API{Name: "cassandra migrations", Generation: "1.0-3.3", Until: "3.4.0",
		Refused: "refused since 3.4.0: the migration schema has no cassandra field (unknown field)"}
	// 3.0.0: "Plugins MUST now have a valid PRIORITY (integer) and VERSION".
	ruleNoVersion = API{Name: "handler without VERSION", Generation: "0.x-2.x", Until: "3.0.0",
		Refused: "refused since 3.0.0: VERSION is required"}
	// 1.2.0: "inheriting from BasePlugin is now optional".
	rulePlainHandler = API{Name: "plain-table handler (no BasePlugin)", Generation: "1.2+", Since: "1.2.0",
		Refused: "needs 1.2.0: before, a handler had to inherit from BasePlugin"}
	// 1.0.0: plugins' custom entities use the new kong.db DAO and schema
	// format (typedefs, array of fields).
	ruleNewDaos = API{Name: "kong.db entities (daos.lua as an array)", Generation: "1.0+", Since: "1.0.0",
		Refused: "needs 1.0.0: the new DAO and schema format for plugin entities"}
)

// Generations reports the Kong generations whose APIs a plugin uses and
// the Kong versions that would refuse it.
func (h *Host) Generations(p *Plugin) *Generations {
	g := &Generations{Plugin: p.Name}
	seen := map[string]bool{}
	add := func(a API) {
		if !seen[a.Name] {
			seen[a.Name] = true
			g.APIs = append(g.APIs, a)
		}
	}
	files := h.pluginFiles(p)
	for _, r := range apiRules {
		for _, f := range files {
			if line := firstMatch(f.path, r.re); line > 0 {
				add(API{Name: r.name, Generation: r.generation, Since: r.since, Until: r.until, Refused: r.refused,
					Where: f.rel + ":" + strconv.Itoa(line)})
				break
			}
		}
	}
	has := func(rel string) (pluginFile, bool) {
		for _, f := range files {
			if f.rel == rel {
				return f, true
			}
		}
		return pluginFile{}, false
	}
	if f, ok := has("hooks.lua"); ok {
		a := ruleHooks
		a.Where = f.rel
		add(a)
	}
	for _, rel := range []string{"migrations/postgres.lua", "migrations/cassandra.lua"} {
		if f, ok := has(rel); ok {
			a := ruleOldMigrations
			a.Where = f.rel
			add(a)
			break
		}
	}
	if p.Legacy {
		add(API{Name: "BasePlugin (kong.plugins.base_plugin)", Generation: "0.x-2.x", Until: "3.0.0",
			Refused: "removed in 3.0.0: require fails, the plugin does not load", Where: "handler.lua"})
	} else if _, ok := has("handler.lua"); ok {
		a := rulePlainHandler
		a.Where = "handler.lua"
		add(a)
	}
	if p.Version == "" {
		a := ruleNoVersion
		a.Where = "handler.lua"
		add(a)
	}
	if len(p.EntityDefs) > 0 {
		a := ruleNewDaos
		if p.MapDaos {
			a = ruleMapDaos
		}
		a.Where = "daos.lua"
		add(a)
	}
	for _, name := range p.Migrations {
		if _, ok := p.MigrationDefs[name]["cassandra"]; ok {
			a := ruleCassandra
			a.Where = "migrations/" + name + ".lua"
			add(a)
			break
		}
	}
	sort.SliceStable(g.APIs, func(i, j int) bool {
		return generationOrder(g.APIs[i].Generation) < generationOrder(g.APIs[j].Generation)
	})
	gens := map[string]bool{}
	g.Accepted = true
	for _, a := range g.APIs {
		if !gens[a.Generation] {
			gens[a.Generation] = true
			g.Generations = append(g.Generations, a.Generation)
		}
		if a.Since != "" && (g.Since == "" || versionLess(g.Since, a.Since)) {
			g.Since = a.Since
		}
		if a.Until != "" && (g.Until == "" || versionLess(a.Until, g.Until)) {
			g.Until = a.Until
		}
	}
	if g.Since != "" && g.Until != "" && !versionLess(g.Since, g.Until) {
		g.Accepted = false
	}
	return g
}

func generationOrder(g string) int {
	for i, n := range []string{"0.x", "0.x-2.x", "1.0-3.3", "PDK 0.14+", "1.0+", "1.2+", "3.3+"} {
		if n == g {
			return i
		}
	}
	return 99
}

// versionLess compares dotted numeric versions.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

type pluginFile struct {
	rel, path string
}

// pluginFiles lists the plugin's Lua files: its directory's, and for a
// plugin found through a rockspec, the rock's modules of the plugin.
func (h *Host) pluginFiles(p *Plugin) []pluginFile {
	var out []pluginFile
	seen := map[string]bool{}
	// a rock's directories may hold several plugins: its modules say which
	// files are this one's
	if p.Rock == "" {
		_ = filepath.WalkDir(p.Dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && path != p.Dir && (d.Name() == "spec" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".lua") {
				rel, _ := filepath.Rel(p.Dir, path)
				out = append(out, pluginFile{rel: filepath.ToSlash(rel), path: path})
				seen[path] = true
			}
			return nil
		})
	}
	prefix := "kong.plugins." + p.Name + "."
	var mods []string
	for name := range h.resolver.Modules {
		if strings.HasPrefix(name, prefix) {
			mods = append(mods, name)
		}
	}
	sort.Strings(mods)
	for _, name := range mods {
		path := h.resolver.Modules[name]
		if seen[path] {
			continue
		}
		rel := strings.ReplaceAll(strings.TrimPrefix(name, prefix), ".", "/") + ".lua"
		if filepath.Base(path) == "init.lua" {
			rel = strings.TrimSuffix(rel, ".lua") + "/init.lua"
		}
		out = append(out, pluginFile{rel: rel, path: path})
	}
	return out
}

// firstMatch is the first line of a Lua file matching re outside a line
// comment, or 0.
func firstMatch(path string, re *regexp.Regexp) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for i, line := range strings.Split(string(b), "\n") {
		if c := strings.Index(line, "--"); c >= 0 {
			line = line[:c]
		}
		if re.MatchString(line) {
			return i + 1
		}
	}
	return 0
}
