package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/rockspec"
)

// protoCache holds compiled chunks, one per file per process: each Lua file
// is parsed and compiled once and instantiated in every worker.
type protoCache struct {
	m sync.Map // key -> *protoEntry
}

type protoEntry struct {
	once  sync.Once
	proto *lua.FunctionProto
	err   error
}

// compile returns the prototype of chunk, compiling src on first use. With
// c == nil nothing is cached.
func (c *protoCache) compile(key, chunk string, src []byte) (*lua.FunctionProto, error) {
	if c == nil {
		return compileFile(key, chunk, src)
	}
	v, _ := c.m.LoadOrStore(key, &protoEntry{})
	e := v.(*protoEntry)
	e.once.Do(func() { e.proto, e.err = compileFile(key, chunk, src) })
	return e.proto, e.err
}

// compileFile compiles the file at path, instrumented when line coverage
// is on for it (luahost test --coverage).
func compileFile(path, chunk string, src []byte) (*lua.FunctionProto, error) {
	if cov := luavm.ActiveCoverage(); cov != nil && cov.Include != nil && !strings.HasPrefix(path, "embedded:") {
		if name, ok := cov.Include(path); ok {
			return luavm.CompileCovered(cov, chunk, name, src)
		}
	}
	return compileChunk(chunk, src)
}

// DefaultMaxSourceSize is lua_max_source_size's default: gopher-lua
// compiles in memory and, for files full of distinct constants, in time
// quadratic in their number, so a file past this size is refused before
// compilation starts.
const DefaultMaxSourceSize = 16 << 20

// SourceTooBigError is a Lua file over lua_max_source_size.
type SourceTooBigError struct {
	Path        string
	Size, Limit int
}

func (e *SourceTooBigError) Error() string {
	return fmt.Sprintf("%s is %d bytes, over lua_max_source_size (%d bytes): not compiled", e.Path, e.Size, e.Limit)
}

// compileModule compiles a module through the host's prototype cache,
// refusing files over lua_max_source_size.
func (h *Host) compileModule(m *Module) (*lua.FunctionProto, error) {
	if limit := h.maxSourceSize(); len(m.Src) > limit {
		return nil, &SourceTooBigError{Path: m.Path, Size: len(m.Src), Limit: limit}
	}
	if compileHook != nil {
		compileHook(m.Path)
	}
	if strings.HasPrefix(m.Path, "embedded:") && h.cache != nil {
		// the embedded modules never change: compiled once per process,
		// shared by every host (luahost test starts several nodes)
		return embeddedProtos.compile(m.Path, m.Chunk, m.Src)
	}
	return h.cache.compile(m.Path, m.Chunk, m.Src)
}

// embeddedProtos is the process's cache of the embedded modules' prototypes.
var embeddedProtos = &protoCache{}

// compileHook, when set (tests), runs before each module is compiled: a
// stand-in for a slow compilation.
var compileHook func(path string)

func (h *Host) maxSourceSize() int {
	if n := h.Conf.Size("lua_max_source_size", DefaultMaxSourceSize); n > 0 {
		return n
	}
	return DefaultMaxSourceSize
}

// compileChunk compiles one chunk with luavm's Lua 5.1 corrections.
func compileChunk(chunk string, src []byte) (*lua.FunctionProto, error) {
	return luavm.Compile(chunk, src)
}

// SyntaxError is a Lua parse error, carrying the chunk name.
type SyntaxError = luavm.SyntaxError

// Resolver finds Lua modules: embedded shims first, then plugin
// directories, then lua_package_path entries (Kong's `?.lua;?/init.lua`).
type Resolver struct {
	// Plugins maps a plugin name to the directory holding its handler.lua;
	// kong.plugins.<name>.<mod> resolves inside it.
	Plugins map[string]string
	// Roots are directories searched as <root>/?.lua;<root>/?/init.lua
	// (repository roots holding kong/plugins/<name>/).
	Roots []string
	// Templates are lua_package_path entries.
	Templates []string
	// Modules are the pure-Lua modules of the rockspecs found in plugins
	// dirs (build.modules: name -> file), resolved before plugin dirs, as
	// `luarocks make` would have installed them; CModules their modules
	// built from C (name -> sources).
	Modules  map[string]string
	CModules map[string]string
	// Rocks are those rockspecs (their dependencies name the rocks that
	// provide a missing module).
	Rocks []*rockspec.Rockspec
	// Trees are LuaRocks trees, searched after Templates.
	Trees []*rockspec.Tree
	// System is the end of the Lua path (SystemLuaPath), after Trees.
	System []string

	// found caches resolutions (file contents included): every worker
	// resolves the same modules, and the disk is read once per host.
	found sync.Map // name -> *resolution
}

type resolution struct {
	m     *Module
	tried []string
}

// Module is a resolved module.
type Module struct {
	Name  string
	Chunk string // chunk name (module path form: kong/plugins/x/handler.lua)
	Path  string // file path, or "embedded:<chunk>"
	Src   []byte
	// C, when set, says the module exists only compiled (its .so, or the C
	// sources of a rockspec): require refuses it with CModuleMessage.
	C string
}

// CModuleMessage is require's error for a compiled module.
func CModuleMessage(name, what string) string {
	return fmt.Sprintf("module '%s' is a C module (%s): luahost runs pure-Lua modules only", name, what)
}

// addRock makes a rockspec's modules requirable.
func (r *Resolver) addRock(rs *rockspec.Rockspec) {
	if r.Modules == nil {
		r.Modules, r.CModules = map[string]string{}, map[string]string{}
	}
	r.Rocks = append(r.Rocks, rs)
	for name, m := range rs.Modules {
		if _, dup := r.Modules[name]; dup {
			continue
		}
		if _, dup := r.CModules[name]; dup {
			continue
		}
		if m.C {
			r.CModules[name] = strings.Join(m.Sources, ", ") + " in " + filepath.Base(rs.Path)
		} else {
			r.Modules[name] = m.File
		}
	}
}

// Find resolves name; the returned messages list the places tried.
func (r *Resolver) Find(name string) (*Module, []string) {
	if v, ok := r.found.Load(name); ok {
		res := v.(*resolution)
		return res.m, res.tried
	}
	m, tried := r.find(name)
	r.found.Store(name, &resolution{m: m, tried: tried})
	return m, tried
}

// yieldingShims are embedded modules standing in for a library only
// while it is not installed: the library's own file, found on the Lua path,
// wins. Penlight's pl.template runs in gopher-lua as it is and covers what
// the shim leaves out (its newline and debug options); the shim keeps
// plugins that need it running where lua-penlight is absent. A
// repository's own spec/fixtures/ssl.lua (a copy of Kong's) keeps the
// certificates its specs were written against.
var yieldingShims = map[string]bool{"pl.template": true, "spec.fixtures.ssl": true}

func (r *Resolver) find(name string) (*Module, []string) {
	src, chunk, emb := embeddedModule(name)
	if emb && !yieldingShims[name] {
		return &Module{Name: name, Chunk: chunk, Path: "embedded:" + chunk, Src: src}, nil
	}
	m, tried := r.findOnPath(name)
	if emb && (m == nil || m.C != "") {
		return &Module{Name: name, Chunk: chunk, Path: "embedded:" + chunk, Src: src}, nil
	}
	return m, tried
}

// findOnPath resolves name on disk: rockspec modules, plugin dirs,
// repository roots, lua_package_path, rocks trees, the system's Lua path,
// then compiled modules (reported, never loaded).
func (r *Resolver) findOnPath(name string) (*Module, []string) {
	var tried []string
	modPath := strings.ReplaceAll(name, ".", "/")
	try := func(file, chunk string) *Module {
		b, err := os.ReadFile(file)
		if err != nil {
			tried = append(tried, "no file '"+file+"'")
			return nil
		}
		return &Module{Name: name, Chunk: chunk, Path: file, Src: b}
	}
	if file, ok := r.Modules[name]; ok {
		chunk := modPath + ".lua"
		if filepath.Base(file) == "init.lua" {
			chunk = modPath + "/init.lua"
		}
		if m := try(file, chunk); m != nil {
			return m, nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "kong.plugins."); ok {
		plugin, sub, _ := strings.Cut(rest, ".")
		if dir, ok := r.Plugins[plugin]; ok {
			if sub == "" {
				sub = "init"
			}
			subPath := strings.ReplaceAll(sub, ".", "/")
			for _, cand := range []string{subPath + ".lua", subPath + "/init.lua"} {
				if m := try(filepath.Join(dir, cand), "kong/plugins/"+plugin+"/"+cand); m != nil {
					return m, nil
				}
			}
		}
	}
	for _, root := range r.Roots {
		for _, cand := range []string{modPath + ".lua", modPath + "/init.lua"} {
			if m := try(filepath.Join(root, cand), cand); m != nil {
				return m, nil
			}
		}
	}
	for _, tpl := range r.Templates {
		if !strings.Contains(tpl, "?") {
			continue
		}
		file := strings.ReplaceAll(tpl, "?", modPath)
		chunk := modPath + ".lua"
		if strings.HasSuffix(tpl, "/init.lua") {
			chunk = modPath + "/init.lua"
		}
		if m := try(file, chunk); m != nil {
			return m, nil
		}
	}
	for _, t := range r.Trees {
		tm, ok, ttried := t.Find(name)
		if !ok {
			for _, f := range ttried {
				tried = append(tried, "no file '"+f+"'")
			}
			continue
		}
		if tm.C {
			if fileExists(tm.File) {
				return &Module{Name: name, Path: tm.File, C: tm.File}, nil
			}
			tried = append(tried, "no file '"+tm.File+"' (listed by rock "+tm.Rock+" in "+t.Root+")")
			continue
		}
		chunk := modPath + ".lua"
		if filepath.Base(tm.File) == "init.lua" {
			chunk = modPath + "/init.lua"
		}
		if m := try(tm.File, chunk); m != nil {
			return m, nil
		}
		if tm.Rock != "" {
			tried[len(tried)-1] += " (listed by rock " + tm.Rock + " in " + t.Root + ")"
		}
	}
	for _, tpl := range r.System {
		chunk := modPath + ".lua"
		if strings.HasSuffix(tpl, "/init.lua") {
			chunk = modPath + "/init.lua"
		}
		if m := try(strings.ReplaceAll(tpl, "?", modPath), chunk); m != nil {
			return m, nil
		}
	}
	// Lua's C searcher comes after its Lua one: a compiled module is only
	// reported when no Lua file has the name.
	if srcs, ok := r.CModules[name]; ok {
		return &Module{Name: name, Path: srcs, C: srcs}, nil
	}
	for _, tpl := range SystemCPath {
		if f := strings.ReplaceAll(tpl, "?", modPath); fileExists(f) {
			return &Module{Name: name, Path: f, C: f}, nil
		}
	}
	return nil, tried
}

// SplitPackagePath splits a lua_package_path value (`a/?.lua;b/?/init.lua;;`),
// dropping empty entries (Kong's ";;" = the default path).
func SplitPackagePath(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// installLoader puts the luahost searcher behind package.preload in
// package.loaders, replacing gopher-lua's file searcher.
//
// compile turns a found module into a prototype; the host passes one that
// checks lua_max_source_size and stops the deadline's clock while it runs.
func installLoader(L *lua.LState, r *Resolver, compile func(*Module) (*lua.FunctionProto, error)) {
	loaders, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADERS").(*lua.LTable)
	if !ok {
		return
	}
	searcher := L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		m, tried := r.Find(name)
		if m == nil {
			if len(tried) == 0 {
				tried = []string{"no embedded module '" + name + "'"}
			}
			L.Push(lua.LString(strings.Join(tried, "\n\t")))
			return 1
		}
		if m.C != "" {
			L.RaiseError("%s", CModuleMessage(name, m.C))
		}
		proto, err := compile(m)
		if err != nil {
			L.RaiseError("error loading module '%s' from file '%s':\n\t%s", name, m.Path, err.Error())
		}
		L.Push(L.NewFunctionFromProto(proto))
		return 1
	})
	L.RawSetInt(loaders, 2, searcher)
	// gopher-lua's default loaders table has exactly two entries (preload,
	// lua file); nothing else to remove.
	for i := loaders.Len(); i > 2; i-- {
		L.RawSetInt(loaders, i, lua.LNil)
	}
}

// loadFileChunk compiles (through the cache) and instantiates a file as a
// function in L.
func loadFileChunk(L *lua.LState, cache *protoCache, path, chunk string) (*lua.LFunction, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	proto, err := cache.compile(path, chunk, src)
	if err != nil {
		return nil, err
	}
	return L.NewFunctionFromProto(proto), nil
}

// ModulePath is the file require(name) loads in this host's states, ""
// for an embedded module or one not found.
func (h *Host) ModulePath(name string) string {
	m, _ := h.resolver.Find(name)
	if m == nil || strings.HasPrefix(m.Path, "embedded:") {
		return ""
	}
	return m.Path
}
