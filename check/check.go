package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
)

// Options configure a check run.
type Options struct {
	// Conf gives plugins_dir and lua_package_path (where plugins are found).
	Conf *conf.Config
	// Plugins restricts the run to these plugin names; empty = every plugin
	// found.
	Plugins []string
	// PG is the server the scratch schema is created on; nil skips the
	// database checks (migrations applied and diffed).
	PG *postgres.Config
	// Logger receives the plugins' own log lines; nil discards them.
	Logger *slog.Logger
}

// plugin is one plugin under check.
type plugin struct {
	name  string
	dir   string
	h     *host.Host
	desc  *host.Plugin
	files map[string]*luaFile // parsed on demand, by path relative to dir
	// schemas are the daos.lua entities as registered (declared order;
	// those that failed are left out).
	schemas []*schema.Schema
	defs    map[string]map[string]any
	sub     *migrations.Subsystem // nil when it has no (valid) migrations
	// migrationsBroken: a migration is invalid or failed, so the tables
	// are not what the migrations mean to make; they are not diffed.
	migrationsBroken bool
	diffed           []string // tables compared with their entity
	out              *[]Finding
	tmp              string // overlay directory, removed at the end
	// stubSchema: schema.lua needs what luahost lacks; a stub stands in.
	stubSchema bool
}

func (p *plugin) file(rel string) *luaFile {
	if f, ok := p.files[rel]; ok {
		return f
	}
	f := parseLua(p.dir, rel)
	p.files[rel] = f
	return f
}

func (p *plugin) add(f Finding) {
	f.Plugin = p.name
	// one line per finding: Lua's multi-line messages are folded
	f.Message = strings.Join(strings.Fields(f.Message), " ")
	*p.out = append(*p.out, f)
}

// Run checks the plugins and returns every finding. An error means the
// run itself could not happen (no plugin found, database unreachable).
func Run(ctx context.Context, o Options) (*Report, error) {
	c := o.Conf
	if c == nil {
		c = conf.New()
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	disc, err := host.DiscoverConf(c)
	if err != nil {
		return nil, err
	}
	names := o.Plugins
	if len(names) == 0 {
		for n := range disc.Sources {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	rep := &Report{Plugins: names}
	var plugins []*plugin
	defer func() {
		for _, p := range plugins {
			if p.h != nil {
				p.h.Close()
			}
			if p.tmp != "" {
				_ = os.RemoveAll(p.tmp)
			}
		}
	}()
	for _, n := range names {
		src, ok := disc.Sources[n]
		if !ok {
			return nil, fmt.Errorf("plugin %q not found (plugins_dir: %s)", n, c.Get("plugins_dir"))
		}
		p := &plugin{name: n, dir: src.Dir, files: map[string]*luaFile{}, out: &rep.Findings}
		if p.load(c, logger) {
			plugins = append(plugins, p)
			p.lintLegacyMigrations()
		} else if p.tmp != "" {
			_ = os.RemoveAll(p.tmp)
		}
	}
	entityOwners := map[string][]string{}
	for _, p := range plugins {
		p.register()
		p.lintDaos()
		p.lintNames()
		p.lintMigrations()
		p.lintAPI()
		p.auditCache()
		for _, s := range p.schemas {
			entityOwners[s.Table()] = append(entityOwners[s.Table()], p.name)
		}
	}
	for _, p := range plugins {
		for _, s := range p.schemas {
			if owners := entityOwners[s.Table()]; len(owners) > 1 && owners[0] != p.name {
				p.add(Finding{File: "daos.lua", Line: p.entityLine(s.Name), Severity: Error, Code: "name-clash",
					Message: fmt.Sprintf("table '%s' is also declared by plugin '%s': enabling both breaks migrations and the DAO", s.Table(), owners[0]),
					Kong:    "Kong/kong#14144", Fix: "give the entity (or its table_name) a name prefixed with the plugin's"})
			}
		}
	}
	if o.PG != nil {
		if err := runDatabase(ctx, *o.PG, plugins); err != nil {
			return nil, err
		}
	} else {
		rep.Database = "no database"
		for _, p := range plugins {
			p.staticReentrancy()
		}
	}
	rep.Entities = map[string][]string{}
	for _, p := range plugins {
		for _, s := range p.schemas {
			rep.Entities[p.name] = append(rep.Entities[p.name], s.Name)
		}
		if len(p.diffed) > 0 {
			if rep.Tables == nil {
				rep.Tables = map[string][]string{}
			}
			rep.Tables[p.name] = p.diffed
		}
	}
	rep.Sort()
	return rep, nil
}

// load builds a host with this plugin alone; a plugin that does not load
// gives its load errors as findings. A handler.lua that fails for want of
// what luahost does not provide (a module, a PDK function at load time)
// is a warning, and the data layer is checked with a stub in its place.
func (p *plugin) load(c *conf.Config, logger *slog.Logger) bool {
	h, errs, err := p.newHost(c, logger, "")
	if err != nil {
		p.add(Finding{File: ".", Severity: Error, Code: "load-error", Message: err.Error(), Fix: "fix the plugin so that it loads"})
		return false
	}
	if h != nil {
		p.h, p.desc = h, h.Plugin(p.name)
		return p.desc != nil
	}
	onlyEnv := true
	for _, le := range errs {
		sev := Error
		fix := "fix the " + orDefault(le.Phase, "plugin") + " error: Kong refuses to start with it"
		if p.environmentError(le) {
			sev = Warning
			fix = "none needed if the plugin loads in Kong; the data-layer checks ran with " + le.Phase + ".lua replaced by a stub"
			if le.Phase == "schema" {
				p.stubSchema = true
			}
		} else {
			onlyEnv = false
		}
		code, msg := "load-error", le.Msg
		if sev == Warning {
			code, msg = "env-missing", "luahost cannot load it (Kong may): "+le.Msg
		}
		p.add(Finding{File: p.rel(le.File), Line: le.Line, Severity: sev, Code: code, Message: msg, Fix: fix})
	}
	if !onlyEnv {
		return false
	}
	tmp, err := os.MkdirTemp("", "luahost-check-")
	if err != nil {
		return false
	}
	p.tmp = tmp
	if !p.overlay(tmp) {
		return false
	}
	h, errs, err = p.newHost(c, logger, tmp)
	if err != nil || h == nil {
		for _, le := range errs {
			if le.Phase != "handler" {
				p.add(Finding{File: p.rel(le.File), Line: le.Line, Severity: Error, Code: "load-error", Message: le.Msg,
					Fix: "fix the " + orDefault(le.Phase, "plugin") + " error: Kong refuses to start with it"})
			}
		}
		return false
	}
	p.h, p.desc = h, h.Plugin(p.name)
	return p.desc != nil
}

// newHost loads the plugin alone in a host (with overlay, a directory
// searched first).
func (p *plugin) newHost(c *conf.Config, logger *slog.Logger, overlay string) (*host.Host, []*host.LoadError, error) {
	pc := conf.New()
	for _, k := range c.Keys() {
		pc.Set(k, c.Get(k), c.Source(k))
	}
	if overlay != "" {
		dirs := overlay
		if cur := c.Get("plugins_dir"); cur != "" {
			dirs += "," + cur
		}
		pc.Set("plugins_dir", dirs, "check")
	}
	pc.Set("plugins", p.name, "check")
	pc.Set("worker_min", "1", "check")
	pc.Set("worker_max", "1", "check")
	// the check runs no request: no 128 MB cache per plugin
	pc.Set("mem_cache_size", "2m", "check")
	h, err := host.New(host.Options{Conf: pc, NoDB: true, Logger: logger, LoadMigrations: true})
	if err != nil {
		var pe *host.PluginErrors
		if errors.As(err, &pe) {
			return nil, pe.Errs, nil
		}
		return nil, nil, err
	}
	return h, nil, nil
}

var moduleNotFound = regexp.MustCompile(`module '?([A-Za-z0-9_.\-]+)'? not found`)

// environmentError tells a handler.lua or schema.lua error that comes
// from luahost's environment (a Kong or OpenResty module it does not
// provide, a PDK function missing at load time) from one Kong would also
// stop on (a syntax error, PRIORITY/VERSION, a module of the plugin's own
// that is missing).
func (p *plugin) environmentError(le *host.LoadError) bool {
	if le.Phase != "handler" && le.Phase != "schema" {
		return false
	}
	if strings.HasPrefix(le.Msg, "Plugin \"") || strings.HasPrefix(le.Msg, "handler must return") ||
		strings.HasPrefix(le.Msg, "handler()") || strings.HasPrefix(le.Msg, "schema must return") ||
		strings.HasPrefix(le.Msg, "no configuration schema") {
		return false
	}
	if m := moduleNotFound.FindStringSubmatch(le.Msg); m != nil {
		return !strings.HasPrefix(m[1], "kong.plugins."+p.name+".") && p.compiles(le)
	}
	return le.Phase == "handler" && p.compiles(le)
}

// compiles reports whether the file an error names is valid Lua.
func (p *plugin) compiles(le *host.LoadError) bool {
	path := le.Path
	if path == "" {
		path = filepath.Join(p.dir, p.rel(le.File))
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	_, err = luavm.Compile(le.File, src)
	return err == nil
}

// overlay makes tmp/<name>: the plugin's files as symlinks, handler.lua
// replaced by a stub.
func (p *plugin) overlay(tmp string) bool {
	dir := filepath.Join(tmp, p.name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return false
	}
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() == "handler.lua" || (p.stubSchema && e.Name() == "schema.lua") {
			continue
		}
		if err := os.Symlink(filepath.Join(p.dir, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return false
		}
	}
	stubSchema := fmt.Sprintf("return { name = %q, fields = { { config = { type = \"record\", fields = {} } } } }\n", p.name)
	return os.WriteFile(filepath.Join(dir, "handler.lua"), []byte("return { PRIORITY = 0, VERSION = \"0.0.0\" }\n"), 0o644) == nil &&
		(!p.stubSchema || os.WriteFile(filepath.Join(dir, "schema.lua"), []byte(stubSchema), 0o644) == nil)
}

// rel turns a chunk name (kong/plugins/<name>/daos.lua) into a path
// relative to the plugin dir.
func (p *plugin) rel(file string) string {
	if rest, ok := strings.CutPrefix(file, "kong/plugins/"+p.name+"/"); ok {
		return rest
	}
	if r, err := filepath.Rel(p.dir, file); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return file
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// register converts and registers daos.lua's entities on a memory DB
// (the core entities are there already), in dependency order, as Kong's
// loader would once the order is right; each failure is a finding.
func (p *plugin) register() {
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	defer db.Close()
	p.defs = map[string]map[string]any{}
	ctx := context.Background()
	for _, def := range depOrder(p.desc.EntityDefs) {
		name, _ := def["name"].(string)
		p.defs[name] = def
		if coreEntities[name] || coreTables[name] {
			continue // reported by lintNames; its table is Kong's
		}
		verrs, err := schema.ValidateDefinition(ctx, def, false)
		if err != nil {
			p.add(Finding{File: "daos.lua", Line: p.entityLine(name), Severity: Error, Code: "invalid-schema",
				Message: fmt.Sprintf("entity '%s': %s", name, err), Fix: "fix the schema definition"})
			continue
		}
		if verrs != nil {
			p.schemaViolations(name, verrs)
			continue
		}
		s, err := schema.SchemaFromMap(def)
		if err == nil {
			_, err = db.Register(s)
		}
		if err != nil {
			p.add(Finding{File: "daos.lua", Line: p.entityLine(name), Severity: Error, Code: "invalid-schema",
				Message: fmt.Sprintf("entity '%s': %s", name, err), Fix: "fix the schema definition"})
			continue
		}
		p.schemas = append(p.schemas, s)
	}
}

// depOrder orders entity definitions so that referenced ones come first
// (declared order otherwise).
func depOrder(defs []map[string]any) []map[string]any {
	byName := map[string]map[string]any{}
	for _, d := range defs {
		if n, ok := d["name"].(string); ok {
			byName[n] = d
		}
	}
	var out []map[string]any
	state := map[string]int{}
	var visit func(d map[string]any)
	visit = func(d map[string]any) {
		n, _ := d["name"].(string)
		if state[n] != 0 {
			return
		}
		state[n] = 1
		for _, ref := range foreignRefs(d) {
			if rd, ok := byName[ref]; ok {
				visit(rd)
			}
		}
		state[n] = 2
		out = append(out, d)
	}
	for _, d := range defs {
		visit(d)
	}
	return out
}

// foreignRefs lists the entities a definition's foreign fields reference,
// with the field names, in field order.
func foreignRefs(def map[string]any) []string {
	var refs []string
	for _, fr := range foreignFields(def) {
		refs = append(refs, fr[1])
	}
	return refs
}

// foreignFields returns {field, reference} pairs.
func foreignFields(def map[string]any) [][2]string {
	var out [][2]string
	fields, _ := def["fields"].([]any)
	for _, f := range fields {
		m, _ := f.(map[string]any)
		for k, v := range m {
			if fd, ok := v.(map[string]any); ok && fd["type"] == "foreign" {
				if r, ok := fd["reference"].(string); ok {
					out = append(out, [2]string{k, r})
				}
			}
		}
	}
	return out
}

// schemaViolations turns Kong's MetaSchema errors into findings: an
// unknown key is located at its line.
func (p *plugin) schemaViolations(entity string, verrs map[string]any) {
	f := p.file("daos.lua")
	scope := p.entityTable(entity)
	walkErrors(verrs, nil, func(path []string, msg string) {
		line := 0
		last := ""
		for i := len(path) - 1; i >= 0; i-- {
			if !isIndex(path[i]) && path[i] != "@entity" {
				last = path[i]
				break
			}
		}
		if last != "" {
			line = f.keyLine(scope, last)
		}
		if line == 0 {
			line = p.entityLine(entity)
		}
		where := strings.Join(path, ".")
		if len(path) >= 3 && path[0] == "fields" && isIndex(path[1]) {
			if fname := p.fieldNameAt(entity, path[1]); fname != "" {
				where = "field '" + fname + "': " + strings.Join(path[2:], ".")
				if l := f.keyLine(p.fieldTable(entity, fname), last); l > 0 {
					line = l
				}
			}
		}
		switch {
		case msg == "unknown field":
			p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "unknown-key",
				Message: fmt.Sprintf("entity '%s': unknown key %s: Kong's MetaSchema rejects it and the plugin fails to load", entity, quoteWhere(where)),
				Fix:     "remove the key or correct its spelling"})
		case msg == schema.MetaCacheKeyUnique:
			p.add(Finding{File: "daos.lua", Line: f.keyLine(scope, "cache_key"), Severity: Error, Code: "cache-key-not-unique",
				Message: fmt.Sprintf("entity '%s': cache_key names one field that is not unique: two rows would share a cache key, and Kong refuses the schema", entity),
				Fix:     "make the field unique = true, or add fields to cache_key until they identify one row"})
		default:
			p.add(Finding{File: "daos.lua", Line: line, Severity: Error, Code: "invalid-schema",
				Message: fmt.Sprintf("entity '%s': %s: %s", entity, where, msg), Fix: "fix the schema definition"})
		}
	})
}

func quoteWhere(w string) string {
	if strings.HasPrefix(w, "field '") {
		i := strings.Index(w, ": ")
		return "'" + w[i+2:] + "' (" + w[:i] + ")"
	}
	return "'" + w + "'"
}

// fieldNameAt names the field at a 1-based index of an entity's fields.
func (p *plugin) fieldNameAt(entity, idx string) string {
	def := p.defs[entity]
	fields, _ := def["fields"].([]any)
	var i int
	fmt.Sscan(idx, &i)
	if i < 1 || i > len(fields) {
		return ""
	}
	m, _ := fields[i-1].(map[string]any)
	for k := range m {
		return k
	}
	return ""
}

// fieldTable is the constructor of a field's definition in daos.lua.
func (p *plugin) fieldTable(entity, field string) *luaTable {
	scope := p.entityTable(entity)
	f := p.file("daos.lua")
	if f == nil {
		return nil
	}
	for _, t := range f.Tables {
		if t.ParentKey == field && (scope == nil || t.within(scope)) {
			return t
		}
	}
	return scope
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// walkErrors visits every message of a schema error table with its path.
func walkErrors(v any, path []string, fn func([]string, string)) {
	switch t := v.(type) {
	case string:
		fn(path, t)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkErrors(t[k], append(append([]string(nil), path...), k), fn)
		}
	case []any:
		for i, e := range t {
			walkErrors(e, append(append([]string(nil), path...), fmt.Sprint(i+1)), fn)
		}
	case map[any]any:
		for k, e := range t {
			walkErrors(e, append(append([]string(nil), path...), fmt.Sprint(k)), fn)
		}
	default:
		if t != nil {
			fn(path, fmt.Sprint(t))
		}
	}
}

// entityLine is the line of an entity's definition in daos.lua.
func (p *plugin) entityLine(name string) int {
	f := p.file("daos.lua")
	if f == nil {
		return 0
	}
	if t := f.tableWith("name", name); t != nil {
		if k, ok := t.key("name"); ok {
			return k.Line
		}
	}
	if l := f.keyLine(nil, name); l > 0 {
		return l
	}
	return f.lastReturn()
}

// entityTable is the constructor of an entity in daos.lua: the table
// with name = "<entity>", or (map form) the one under key <entity>.
func (p *plugin) entityTable(entity string) *luaTable {
	f := p.file("daos.lua")
	if f == nil {
		return nil
	}
	if t := f.tableWith("name", entity); t != nil {
		return t
	}
	for _, t := range f.Tables {
		if t.ParentKey == entity {
			return t
		}
	}
	return nil
}

// fieldLine is the line of an entity's field in daos.lua (searched in
// the entity's fields table, so that a field called name is not the
// entity's own name key).
func (p *plugin) fieldLine(entity, field string) int {
	f := p.file("daos.lua")
	if f == nil {
		return 0
	}
	scope := p.entityTable(entity)
	if scope != nil {
		for _, t := range f.Tables {
			if t.ParentKey == "fields" && t.Parent == scope {
				scope = t
				break
			}
		}
		if l := f.keyLine(scope, field); l > 0 {
			return l
		}
	}
	return p.entityLine(entity)
}
