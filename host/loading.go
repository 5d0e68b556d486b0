package host

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// CleanVersion checks a handler's VERSION as Kong does (the `version`
// library, non-strict, in kong/db/dao/plugins.lua): the first run of
// digits and dots is taken ("0.1-t" -> "0.1", "v1.2.3" -> "1.2.3"), each
// part must be a number ("1..2" is refused, a trailing dot dropped), and
// more than three parts are refused. It returns the cleaned string.
func CleanVersion(v string) (string, bool) {
	m := versionRun.FindString(v)
	if m == "" {
		return "", false
	}
	parts := strings.Split(m, ".")
	if parts[len(parts)-1] == "" { // "1.0." : the trailing dot yields no element
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 3 {
		return "", false
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		if p == "" {
			return "", false
		}
		n, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return "", false
		}
		out[i] = luavm.FormatNumber(n) // tostring of the number, as table.concat writes it
	}
	return strings.Join(out, "."), true
}

var versionRun = regexp.MustCompile(`[0-9][0-9.]*`)

// Skipped is a bundled plugin left out because it needs a module luahost
// lacks.
type Skipped struct {
	Name   string
	Module string // the first module it lacks
	Err    *LoadError
}

// Lua 5.1 says "module 'x' not found", gopher-lua's require "module x not
// found".
var reModuleNotFound = regexp.MustCompile(`module '?([^'\s]+)'? not found`)
var reCModule = regexp.MustCompile(`module '([^']+)' is a C module`)

// explainMissing turns a "module 'x' not found" into what the user needs:
// the module, the rock that provides it (the plugin's rockspec
// dependencies, another rockspec's, a rocks tree's manifest) and how to
// install it. A compiled module's message is already clear; both set
// le.Module.
func (h *Host) explainMissing(le *LoadError, src *Source) {
	if m := reCModule.FindStringSubmatch(le.Msg); m != nil {
		le.Module = m[1]
		return
	}
	m := reModuleNotFound.FindStringSubmatch(le.Msg)
	if m == nil {
		return
	}
	mod := m[1]
	le.Module = mod
	var why string
	switch {
	case mod == "ffi" || mod == "jit" || strings.HasPrefix(mod, "jit."):
		why = "LuaJIT's " + mod + ", which luahost (gopher-lua, Lua 5.1) does not have"
	case mod == "kong" || strings.HasPrefix(mod, "kong.") && !strings.HasPrefix(mod, "kong.plugins."):
		why = "a module of Kong itself that luahost does not provide"
	case strings.HasPrefix(mod, "ngx.") || strings.HasPrefix(mod, "resty.core") || mod == "resty.core":
		why = "part of OpenResty that luahost does not provide"
	default:
		rock, where := h.providerOf(mod, src)
		le.Rock = rock
		if rock != "" {
			why = fmt.Sprintf("not installed; rock %s provides it (%s): install it with `luarocks install %s` "+
				"(or `luarocks install --tree DIR %s` and run luahost with --rocks-tree DIR)", rock, where, rock, rock)
		} else {
			why = "not installed, and no rockspec or rocks tree names the rock that provides it: " +
				"install that rock with `luarocks install <rock>` (or put its files on lua_package_path)"
		}
	}
	// Lua's list of the places tried stays after the explanation.
	tried := ""
	if i := strings.Index(le.Msg, m[0]); i >= 0 {
		tried = strings.TrimPrefix(strings.TrimSpace(le.Msg[i+len(m[0]):]), ":")
		tried = strings.TrimSuffix(strings.TrimSpace(tried), ",") // gopher-lua's trailing ", "
	}
	le.Msg = fmt.Sprintf("module '%s' not found: %s", mod, why)
	if tried = strings.TrimSpace(tried); tried != "" {
		le.Msg += ":\n\t" + tried
	}
}

// providerOf names the rock that provides module: the plugin's own
// rockspec dependencies first, then the other rockspecs found, then a rocks
// tree's manifest.
func (h *Host) providerOf(mod string, src *Source) (rock, where string) {
	if src != nil && src.Rock != nil {
		if r := src.Rock.ProviderOf(mod); r != "" {
			return r, "a dependency in " + filepath.Base(src.Rock.Path)
		}
	}
	for _, rs := range h.resolver.Rocks {
		if r := rs.ProviderOf(mod); r != "" {
			return r, "a dependency in " + filepath.Base(rs.Path)
		}
	}
	for _, t := range h.resolver.Trees {
		if tm, ok, _ := t.Find(mod); ok && tm.Rock != "" {
			return tm.Rock, "listed by the manifest of " + t.Root + ", but its file is missing"
		}
	}
	return "", ""
}

// Lua 5.1 (and gopher-lua) leave a module that failed to load marked in
// package.loaded: the next require of it says only "loop or previous
// error loading module". The plugin that first required it had the cause.
var reLoopOrPrevious = regexp.MustCompile(`loop or previous error loading module:? '?([^'\s]+)'?`)

// rootCause turns a "loop or previous error loading module X" into X's own
// error, by requiring X again (and the module it names in turn, a few
// levels at most): a plugin that shares a broken dependency with one loaded
// before it is then reported with the module that is really missing.
func (w *Worker) rootCause(le *LoadError) {
	m := reLoopOrPrevious.FindStringSubmatch(le.Msg)
	if m == nil {
		return
	}
	loaded, ok := w.L.GetField(w.L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if !ok {
		return
	}
	chain := []string{m[1]}
	for i := 0; i < 8; i++ {
		name := chain[len(chain)-1]
		loaded.RawSetString(name, lua.LNil)
		_, err := w.requireIn(name)
		if err == nil {
			return // it loads now: nothing better to say
		}
		cause := w.errorOf(le.Plugin, le.Phase, err)
		if next := reLoopOrPrevious.FindStringSubmatch(cause.Msg); next != nil {
			chain = append(chain, next[1])
			continue
		}
		if reModuleNotFound.MatchString(cause.Msg) || reCModule.MatchString(cause.Msg) {
			le.Msg = cause.Msg + "\n\t(required through " + strings.Join(chain, " <- ") + ")"
		}
		return
	}
}

// skippable: a bundled plugin (enabled only through `plugins = bundled`,
// found on the Lua path) whose load failed for a module luahost lacks.
// Kong would refuse to start; luahost runs the rest and warns.
func skippable(src *Source, errs []*LoadError) (string, bool) {
	if !src.Bundled {
		return "", false
	}
	for _, le := range errs {
		if le.Module != "" {
			return le.Module, true
		}
	}
	return "", false
}

// LoadMigrations reads every enabled plugin's migrations (migrations/init.lua
// and the modules it names), once. Kong reads them only for a migrations
// command or a database; so does luahost (Subsystems calls this), and a
// plugin whose migrations are broken runs DB-less. The errors name plugin,
// file and line.
func (h *Host) LoadMigrations() []*LoadError {
	return h.loadMigrationsOf(h.Plugins)
}

func (h *Host) loadMigrationsOf(descs []*Plugin) []*LoadError {
	var errs []*LoadError
	for _, p := range descs {
		errs = append(errs, h.pluginMigrations(p)...)
	}
	return errs
}

// pluginMigrations loads one plugin's migrations in a worker (the boot
// worker while the host starts, else one borrowed from the pool).
func (h *Host) pluginMigrations(p *Plugin) []*LoadError {
	p.migrationsMu.Lock()
	defer p.migrationsMu.Unlock()
	if p.migrationsLoaded {
		return p.migrationErrs
	}
	load := func(w *Worker) {
		var errs []*LoadError
		fail := func(phase string, err error) { errs = append(errs, w.errorOf(p.Name, phase, err)) }
		failAt := func(phase, file string, line int, msg string) {
			errs = append(errs, &LoadError{Plugin: p.Name, Phase: phase, File: file, Path: h.pathOf(file), Line: line, Msg: msg})
		}
		w.loadAnyMigrations(p.Name, p, true, fail, failAt)
		p.migrationErrs = errs
		p.migrationsLoaded = true
	}
	switch {
	case h.boot != nil:
		load(h.boot)
	case h.Pool != nil:
		if err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error { load(w); return nil }); err != nil {
			return []*LoadError{{Plugin: p.Name, Phase: "migrations", Msg: err.Error(), Err: err}}
		}
	default:
		return []*LoadError{{Plugin: p.Name, Phase: "migrations", Msg: "no worker to load the migrations in"}}
	}
	return p.migrationErrs
}

// migrationsIn makes sure a worker has loaded plugin's migrations (their
// up_f and teardown functions live in each worker that loaded them).
func (w *Worker) migrationsIn(plugin string) {
	p := w.host.byName[plugin]
	if p == nil {
		return
	}
	var errs []*LoadError
	w.loadAnyMigrations(plugin, p, false, func(phase string, err error) { errs = append(errs, w.errorOf(plugin, phase, err)) },
		func(string, string, int, string) {})
	_ = errs // reported when the host loaded them first (LoadMigrations)
}
