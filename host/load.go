package host

import (
	"fmt"
	"os"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
)

// Plugin is the Go-side description of a plugin, built once from the
// first worker that loads it.
type Plugin struct {
	Name     string
	Dir      string
	Version  string
	Priority int
	// Legacy: a kong.plugins.base_plugin subclass (Kong ≤ 2.8 style),
	// instantiated with handler() as Kong 2.x does.
	Legacy bool
	Phases []string // phases it implements, in Kong's order

	// ConfigDef is schema.lua as a value (functions as *schema.Func).
	ConfigDef map[string]any
	// EntityDefs are daos.lua's schemas, in load order (a map-form
	// daos.lua is ordered so that referenced entities come first).
	EntityDefs []map[string]any
	// MapDaos: daos.lua returned a map name -> schema (the seed's form).
	MapDaos bool
	// Migrations are the names listed in migrations/init.lua; MigrationDefs
	// the modules they name, as values.
	Migrations    []string
	MigrationDefs map[string]map[string]any
	HasAPI        bool

	NoConsumer, NoRoute, NoService bool

	// Rock is the rockspec the plugin was found through (nil otherwise).
	Rock string

	migrationsMu     sync.Mutex
	migrationsLoaded bool
	migrationErrs    []*LoadError
}

// Entities lists the plugin's entity names.
func (p *Plugin) Entities() []string {
	var out []string
	for _, d := range p.EntityDefs {
		if n, ok := d["name"].(string); ok {
			out = append(out, n)
		}
	}
	return out
}

// Phases in Kong's order (HTTP then stream).
var knownPhases = []string{"init_worker", "configure", "certificate", "rewrite", "access", "response",
	"header_filter", "body_filter", "log", "preread"}

// requireIn runs require(name) in the worker under its deadline.
func (w *Worker) requireIn(name string) (lua.LValue, error) {
	L := w.L
	if err := w.call(L.GetGlobal("require"), 1, lua.LString(name)); err != nil {
		return nil, err
	}
	v := L.Get(-1)
	L.Pop(1)
	return v, nil
}

func (w *Worker) moduleExists(name string) bool {
	m, _ := w.host.resolver.Find(name)
	return m != nil
}

// loadPlugin loads every file of a plugin in this worker. With build, it
// also fills the Go description; errors name plugin, file and line.
func (w *Worker) loadPlugin(src *Source, build bool) (*loadedPlugin, *Plugin, []*LoadError) {
	L := w.L
	name := src.Name
	ns := "kong.plugins." + name
	desc := &Plugin{Name: name, Dir: src.Dir}
	if src.Rock != nil {
		desc.Rock = src.Rock.Path
	}
	lp := &loadedPlugin{desc: desc, phaseFns: map[string]*lua.LFunction{}}
	var errs []*LoadError
	fail := func(phase string, err error) {
		errs = append(errs, w.errorOf(name, phase, err))
	}
	failAt := func(phase, file string, line int, msg string) {
		errs = append(errs, &LoadError{Plugin: name, Phase: phase, File: file, Path: w.host.pathOf(file), Line: line, Msg: msg})
	}

	// handler.lua
	hv, err := w.requireIn(ns + ".handler")
	if err != nil {
		fail("handler", err)
	} else if h, ok := hv.(*lua.LTable); !ok {
		failAt("handler", "kong/plugins/"+name+"/handler.lua", w.host.lastReturnLine(name, "handler.lua"),
			fmt.Sprintf("handler must return a table, got: %s", hv.Type()))
	} else if class, err := w.isClass(h); err != nil {
		fail("handler", err)
	} else {
		if class {
			// BasePlugin subclass: Kong 2.x calls handler() to instantiate.
			if err := w.call(h, 1); err != nil {
				fail("handler", err)
			} else if inst, ok := L.Get(-1).(*lua.LTable); ok {
				L.Pop(1)
				h = inst
				desc.Legacy = true
			} else {
				L.Pop(1)
				failAt("handler", "kong/plugins/"+name+"/handler.lua", 0, "handler() did not return an instance")
			}
		}
		lp.handler = h
		// A BasePlugin subclass inherits a logging no-op for every phase:
		// only the phases it defines itself are its own.
		var base *lua.LTable
		if desc.Legacy {
			if bv, err := w.requireIn("kong.plugins.base_plugin"); err == nil {
				base, _ = bv.(*lua.LTable)
			}
		}
		if fields, err := w.readHandler(h, base); err != nil {
			fail("handler", err)
		} else {
			for _, ph := range knownPhases {
				if fn, ok := fields.phases[ph]; ok {
					lp.phaseFns[ph] = fn
					desc.Phases = append(desc.Phases, ph)
				}
			}
			w.describeHandler(fields, desc, lp.phaseFns, failAt)
			if fields.cleanVersion != "" && fields.cleanVersion != string(fields.version.(lua.LString)) {
				if err := w.inCall(func(L *lua.LState) { L.SetField(h, "VERSION", lua.LString(fields.cleanVersion)) }); err != nil {
					fail("handler", err)
				}
			}
		}
	}

	// schema.lua (required)
	if !w.moduleExists(ns + ".schema") {
		failAt("schema", "kong/plugins/"+name+"/schema.lua", 0, "no configuration schema found for plugin: "+name)
	} else if sv, err := w.requireIn(ns + ".schema"); err != nil {
		fail("schema", err)
	} else if st, ok := sv.(*lua.LTable); !ok {
		failAt("schema", "kong/plugins/"+name+"/schema.lua", w.host.lastReturnLine(name, "schema.lua"),
			fmt.Sprintf("schema must return a table, got: %s", sv.Type()))
	} else if v, err := pdk.ToValue(L, st, w.nameFunc(name+"/schema.lua")); err != nil {
		failAt("schema", "kong/plugins/"+name+"/schema.lua", 0, err.Error())
	} else if build {
		desc.ConfigDef, _ = v.(map[string]any)
		desc.NoConsumer, desc.NoRoute, desc.NoService = scopeRestrictions(desc.ConfigDef)
	}

	// daos.lua (optional)
	if w.moduleExists(ns + ".daos") {
		if dv, err := w.requireIn(ns + ".daos"); err != nil {
			fail("daos", err)
		} else if dt, ok := dv.(*lua.LTable); !ok {
			failAt("daos", "kong/plugins/"+name+"/daos.lua", w.host.lastReturnLine(name, "daos.lua"),
				fmt.Sprintf("custom plugin '%s' returned non-table daos definition", name))
		} else if v, err := pdk.ToValue(L, dt, w.nameFunc(name+"/daos.lua")); err != nil {
			failAt("daos", "kong/plugins/"+name+"/daos.lua", 0, err.Error())
		} else if build {
			defs, isMap, err := orderDaos(v)
			if err != nil {
				failAt("daos", "kong/plugins/"+name+"/daos.lua", w.host.lastReturnLine(name, "daos.lua"),
					fmt.Sprintf("custom plugin '%s': %s", name, err))
			}
			desc.EntityDefs, desc.MapDaos = defs, isMap
		}
	}

	// migrations/init.lua and every file it names: Kong reads them only
	// for a migrations command or a database (LoadMigrations), so a plugin
	// whose migrations are broken still runs DB-less.
	if w.host.eagerMigrations {
		w.loadAnyMigrations(name, desc, build, fail, failAt)
		desc.migrationsLoaded = true
	}

	// api.lua (optional): Kong runs it when it builds the Admin API, not
	// when it loads plugins, so here it is only compiled (a syntax error
	// is reported with its line); the Admin API requires it.
	if m, _ := w.host.resolver.Find(ns + ".api"); m != nil && m.C == "" {
		if _, err := w.host.compileModule(m); err != nil {
			fail("api", err)
		} else {
			desc.HasAPI = true
		}
	}
	for _, le := range errs {
		w.rootCause(le)
		w.host.explainMissing(le, src)
	}
	return lp, desc, errs
}

// kongsOwn says whether name is one of Kong's bundled plugins found on
// the Lua path (a Kong source tree or installation): Kong ≥ 1.0 reads
// only migrations/init.lua, and some of its bundled plugins still carry a
// dead 0.x migrations/postgres.lua (request-transformer's, calling
// 0.x's dao.plugins:find_all), which Kong never runs.
func (h *Host) kongsOwn(name string) bool {
	for _, s := range h.sources {
		if s.Name == name {
			return s.OnPath && IsBundled(name)
		}
	}
	return false
}

// loadAnyMigrations reads a plugin's migrations: migrations/init.lua and
// the files it names, else Kong 0.x's migrations/postgres.lua.
func (w *Worker) loadAnyMigrations(name string, desc *Plugin, build bool, fail func(string, error), failAt func(string, string, int, string)) {
	if w.moduleExists("kong.plugins." + name + ".migrations") {
		w.loadMigrations(name, desc, build, fail, failAt)
	} else if !w.host.kongsOwn(name) {
		w.loadLegacyMigrations(name, desc, build, fail, failAt) // Kong 0.x: migrations/postgres.lua
	}
}

func (w *Worker) loadMigrations(name string, desc *Plugin, build bool, fail func(string, error), failAt func(string, string, int, string)) {
	L := w.L
	ns := "kong.plugins." + name + ".migrations"
	index := "kong/plugins/" + name + "/migrations/init.lua"
	iv, err := w.requireIn(ns)
	if err != nil {
		fail("migrations", err)
		return
	}
	it, ok := iv.(*lua.LTable)
	if !ok {
		failAt("migrations", index, w.host.lastReturnLine(name, "migrations/init.lua"),
			fmt.Sprintf("migrations index from '%s' must be a table", ns))
		return
	}
	var names []string
	for i := 1; i <= it.Len(); i++ {
		s, ok := it.RawGetInt(i).(lua.LString)
		if !ok {
			failAt("migrations", index, 0, fmt.Sprintf("migrations index from '%s' must be an array of names, entry %d is a %s", ns, i, it.RawGetInt(i).Type()))
			continue
		}
		names = append(names, string(s))
	}
	defs := map[string]map[string]any{}
	for _, m := range names {
		mod := ns + "." + m
		if !w.moduleExists(mod) {
			failAt("migrations", index, w.host.lineMentioning(name, "migrations/init.lua", m),
				fmt.Sprintf("failed to load migration '%s' of '%s' subsystem: file kong/plugins/%s/migrations/%s.lua does not exist", mod, name, name, m))
			continue
		}
		mv, err := w.requireIn(mod)
		if err != nil {
			fail("migrations", err)
			continue
		}
		mt, ok := mv.(*lua.LTable)
		if !ok {
			failAt("migrations", "kong/plugins/"+name+"/migrations/"+m+".lua", w.host.lastReturnLine(name, "migrations/"+m+".lua"),
				fmt.Sprintf("migration '%s' of '%s' subsystem must return a table", mod, name))
			continue
		}
		v, err := pdk.ToValue(L, mt, w.nameFunc(name+"/migrations/"+m+".lua"))
		if err != nil {
			failAt("migrations", "kong/plugins/"+name+"/migrations/"+m+".lua", 0, err.Error())
			continue
		}
		defs[m], _ = v.(map[string]any)
	}
	if build {
		desc.Migrations, desc.MigrationDefs = names, defs
	}
}

// inCall runs read as a Lua function under the worker's deadline: what the
// loader reads from a plugin's tables goes through their metamethods (Kong
// indexes them normally), and an __index that raises, loops or recurses
// must fail the plugin's load like any Lua error, not the process.
func (w *Worker) inCall(read func(L *lua.LState)) error {
	return w.call(w.L.NewFunction(func(L *lua.LState) int { read(L); return 0 }), 0)
}

// isClass tells a kong.vendor.classic class (BasePlugin:extend()) from a
// plain handler table: classes carry extend and are callable.
func (w *Worker) isClass(t *lua.LTable) (class bool, err error) {
	err = w.inCall(func(L *lua.LState) {
		_, hasExtend := L.GetField(t, "extend").(*lua.LFunction)
		mt, ok := L.GetMetatable(t).(*lua.LTable)
		if !hasExtend || !ok {
			return
		}
		_, class = L.GetField(mt, "__call").(*lua.LFunction)
	})
	return class, err
}

// handlerFields is what the loader reads from a handler table.
type handlerFields struct {
	priority, version lua.LValue
	phases            map[string]*lua.LFunction
	// cleanVersion is VERSION as Kong cleans it ("0.1-t" -> "0.1"), set
	// back on the handler as Kong does.
	cleanVersion string
}

// readHandler reads PRIORITY, VERSION and the phase functions of a handler
// (those a BasePlugin subclass inherits from base left out).
func (w *Worker) readHandler(h, base *lua.LTable) (*handlerFields, error) {
	f := &handlerFields{phases: map[string]*lua.LFunction{}}
	err := w.inCall(func(L *lua.LState) {
		f.priority = L.GetField(h, "PRIORITY")
		f.version = L.GetField(h, "VERSION")
		for _, ph := range knownPhases {
			fn, ok := L.GetField(h, ph).(*lua.LFunction)
			if !ok || (base != nil && L.GetField(base, ph) == fn) {
				continue
			}
			f.phases[ph] = fn
		}
	})
	return f, err
}

// describeHandler checks PRIORITY and VERSION as Kong's loader does.
func (w *Worker) describeHandler(fields *handlerFields, desc *Plugin, phases map[string]*lua.LFunction, failAt func(string, string, int, string)) {
	file := "kong/plugins/" + desc.Name + "/handler.lua"
	pv := fields.priority
	switch p := pv.(type) {
	case lua.LNumber:
		if float64(p) != float64(int64(p)) {
			failAt("handler", file, w.host.lineMentioning(desc.Name, "handler.lua", "PRIORITY"),
				fmt.Sprintf("Plugin %q cannot be loaded because its PRIORITY field is not a valid integer number, got: %q.", desc.Name, pdk.FormatNumber(float64(p))))
		}
		desc.Priority = int(p)
	default:
		if !desc.Legacy {
			failAt("handler", file, w.host.lineMentioning(desc.Name, "handler.lua", "PRIORITY", "return"),
				fmt.Sprintf("Plugin %q cannot be loaded because its PRIORITY field is not a valid integer number, got: %q.", desc.Name, luaTostring(pv)))
		}
	}
	switch v := fields.version.(type) {
	case lua.LString:
		clean, ok := CleanVersion(string(v))
		if !ok {
			failAt("handler", file, w.host.lineMentioning(desc.Name, "handler.lua", "VERSION"),
				fmt.Sprintf("Plugin %q cannot be loaded because its VERSION field does not follow the \"x.y.z\" format, got: %q.", desc.Name, string(v)))
		}
		desc.Version = clean
		fields.cleanVersion = clean
	case *lua.LNilType:
		// Kong ≤ 2.8 did not require VERSION; 3.x does. Both generations
		// run here, so a missing VERSION is accepted.
	default:
		failAt("handler", file, w.host.lineMentioning(desc.Name, "handler.lua", "VERSION"),
			fmt.Sprintf("Plugin %q cannot be loaded because its VERSION field does not follow the \"x.y.z\" format, got: %q.", desc.Name, luaTostring(v)))
	}
	_, hasResp := phases["response"]
	_, hasHF := phases["header_filter"]
	_, hasBF := phases["body_filter"]
	if hasResp && (hasHF || hasBF) {
		failAt("handler", file, w.host.lineMentioning(desc.Name, "handler.lua", "response"),
			"Plugin \""+desc.Name+"\" can't be loaded because it implements both `response` and `header_filter` or `body_filter` methods.")
	}
}

func luaTostring(v lua.LValue) string {
	if v == lua.LNil {
		return "nil"
	}
	return v.String()
}

// scopeRestrictions reads typedefs.no_consumer/no_route/no_service (a
// foreign field with eq = null) from a config schema definition.
func scopeRestrictions(def map[string]any) (noConsumer, noRoute, noService bool) {
	fields, _ := def["fields"].([]any)
	for _, f := range fields {
		m, _ := f.(map[string]any)
		for k, v := range m {
			fd, _ := v.(map[string]any)
			if fd == nil || fd["type"] != "foreign" {
				continue
			}
			if !schema.IsNull(fd["eq"]) {
				continue
			}
			switch k {
			case "consumer":
				noConsumer = true
			case "route":
				noRoute = true
			case "service":
				noService = true
			}
		}
	}
	return
}

// orderDaos accepts both daos.lua shapes: an array of schemas (Kong 2.x/3.x)
// and a map name -> schema (the seed's form). A map is ordered so that
// referenced entities load first (Kong/kong#7911); a 0.x `tables` key with
// no fields is ignored, as Kong 2.x did.
func orderDaos(v any) ([]map[string]any, bool, error) {
	switch t := v.(type) {
	case []any:
		out := make([]map[string]any, 0, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false, fmt.Errorf("daos entry %d is not a schema table", i+1)
			}
			out = append(out, m)
		}
		return out, false, nil
	case map[string]any:
		defs := map[string]map[string]any{}
		for k, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, true, fmt.Errorf("daos entry '%s' is not a schema table", k)
			}
			if k == "tables" && m["fields"] == nil {
				continue
			}
			// 0.x's marshall_event is not a schema property: the hooks
			// bridge (lua/luahost/legacy_hooks.lua) reads it from daos.lua.
			delete(m, "marshall_event")
			if schema.IsLegacyEntity(m) {
				conv, err := schema.ConvertLegacyEntity(k, m)
				if err != nil {
					return nil, true, fmt.Errorf("daos entry '%s': %w", k, err)
				}
				m = conv
			}
			if _, ok := m["name"]; !ok {
				m["name"] = k
			}
			defs[k] = m
		}
		return topoSort(defs), true, nil
	}
	return nil, false, fmt.Errorf("daos must be a table")
}

// topoSort orders entity definitions so that each comes after the
// entities its foreign fields reference; ties by name.
func topoSort(defs map[string]map[string]any) []map[string]any {
	names := make([]string, 0, len(defs))
	for k := range defs {
		names = append(names, k)
	}
	sortStrings(names)
	var out []map[string]any
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(n string)
	visit = func(n string) {
		if state[n] != 0 {
			return
		}
		state[n] = 1
		for _, ref := range foreignRefs(defs[n]) {
			if _, ok := defs[ref]; ok {
				visit(ref)
			}
		}
		state[n] = 2
		out = append(out, defs[n])
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

func foreignRefs(def map[string]any) []string {
	var refs []string
	fields, _ := def["fields"].([]any)
	for _, f := range fields {
		m, _ := f.(map[string]any)
		for _, v := range m {
			if fd, ok := v.(map[string]any); ok && fd["type"] == "foreign" {
				if r, ok := fd["reference"].(string); ok {
					refs = append(refs, r)
				}
			}
		}
	}
	sortStrings(refs)
	return refs
}

// pathOf maps a chunk name back to its file on disk.
func (h *Host) pathOf(chunk string) string {
	if rest, ok := strings.CutPrefix(chunk, "kong/plugins/"); ok {
		plugin, file, _ := strings.Cut(rest, "/")
		if p := h.pluginFilePath(plugin, file); p != "" {
			return p
		}
	}
	if m, _ := h.resolver.Find(strings.TrimSuffix(strings.ReplaceAll(strings.TrimSuffix(chunk, ".lua"), "/", "."), ".init")); m != nil {
		return m.Path
	}
	return ""
}

// pluginFilePath is where a plugin's file (handler.lua, migrations/init.lua)
// is on disk: the file its rockspec installs as that module, else the file
// in the plugin's directory; "" for an unknown plugin.
func (h *Host) pluginFilePath(plugin, file string) string {
	mod := "kong.plugins." + plugin + "." + strings.ReplaceAll(strings.TrimSuffix(file, ".lua"), "/", ".")
	if p, ok := h.resolver.Modules[mod]; ok {
		return p
	}
	if p, ok := h.resolver.Modules[strings.TrimSuffix(mod, ".init")]; ok {
		return p
	}
	if dir, ok := h.resolver.Plugins[plugin]; ok {
		return dir + "/" + file
	}
	return ""
}

// lineMentioning returns the first line of a plugin file containing one of
// words (tried in order), or 0.
func (h *Host) lineMentioning(plugin, file string, words ...string) int {
	b, err := os.ReadFile(h.pluginFilePath(plugin, file))
	if err != nil {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	for _, word := range words {
		for i, l := range lines {
			if strings.Contains(l, word) {
				return i + 1
			}
		}
	}
	return 0
}

// lastReturnLine is the line of a file's final top-level return.
func (h *Host) lastReturnLine(plugin, file string) int {
	b, err := os.ReadFile(h.pluginFilePath(plugin, file))
	if err != nil {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "return") {
			return i + 1
		}
	}
	return 0
}
