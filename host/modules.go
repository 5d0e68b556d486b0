package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
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
	if strings.HasPrefix(m.Path, "embedded:") && h.cache != nil {
		// the embedded modules never change: compiled once per process,
		// shared by every host (luahost test starts several nodes)
		return embeddedProtos.compile(m.Path, m.Chunk, m.Src)
	}
	return h.cache.compile(m.Path, m.Chunk, m.Src)
}

// embeddedProtos is the process's cache of the embedded modules' prototypes.
var embeddedProtos = &protoCache{}

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

func (r *Resolver) find(name string) (*Module, []string) {
	if src, chunk, ok := embeddedModule(name); ok {
		return &Module{Name: name, Chunk: chunk, Path: "embedded:" + chunk, Src: src}, nil
	}
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
