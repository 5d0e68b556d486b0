// Package rockspec reads LuaRocks files the way LuaRocks does, without
// LuaRocks: a rock's *.rockspec (what `luarocks make` would install from a
// repository root: its build.modules, its dependencies) and a rocks tree's
// manifest (which installed rock provides which module). Both are Lua
// files; they run in a sandboxed state (an empty environment, no library
// reachable but string methods, a deadline) and only the tables they
// assign are read.
//
// It depends on luavm and gopher-lua only: host and the test runner use it
// to lay out a plugin repository as it would be installed.
package rockspec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// Rockspec is what luahost reads from a *.rockspec.
type Rockspec struct {
	Path    string // the file
	Dir     string // its directory: build.modules' paths are relative to it
	Package string
	Version string
	// Dependencies are the `dependencies` entries, in order ("lua >= 5.1"
	// is kept: its Name is "lua").
	Dependencies []Dependency
	// BuildType is build.type ("builtin", "make", "cmake", "command", ...).
	BuildType string
	// Modules maps each module name of build.modules (or, for other build
	// types, build.install.lua) to what provides it.
	Modules map[string]Module
}

// Dependency is one `dependencies` entry: a rock name and its constraint.
type Dependency struct {
	Name       string
	Constraint string // "", ">= 1.0", "~> 2.1", ...
}

// Module is one installed module of a rock.
type Module struct {
	// File is the Lua file (absolute) of a pure-Lua module.
	File string
	// C: the module is built from C sources (a .c file, or a table with
	// sources); Sources lists them, as written.
	C       bool
	Sources []string
}

// Deadline bounds the evaluation of one rockspec or manifest.
var Deadline = 5 * time.Second

// Find returns the *.rockspec files at the root of dir, sorted by name.
func Find(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".rockspec") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Parse reads and evaluates a rockspec file.
func Parse(path string) (*Rockspec, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return ParseSource(abs, src)
}

// ParseSource evaluates src as the rockspec at path. Errors name the file
// (and the line, for Lua errors).
func ParseSource(path string, src []byte) (*Rockspec, error) {
	rs := &Rockspec{Path: path, Dir: filepath.Dir(path), Modules: map[string]Module{}}
	err := evaluate(path, src, func(L *lua.LState, env *lua.LTable) error {
		rs.Package = str(env.RawGetString("package"))
		rs.Version = str(env.RawGetString("version"))
		if rs.Package == "" {
			return fmt.Errorf("no package name (package = \"...\")")
		}
		if deps, ok := env.RawGetString("dependencies").(*lua.LTable); ok {
			for i := 1; i <= deps.Len(); i++ {
				s, ok := deps.RawGetInt(i).(lua.LString)
				if !ok {
					return fmt.Errorf("dependencies[%d] is a %s, not a string", i, deps.RawGetInt(i).Type())
				}
				rs.Dependencies = append(rs.Dependencies, ParseDependency(string(s)))
			}
		}
		build, _ := env.RawGetString("build").(*lua.LTable)
		if build == nil {
			// LuaRocks' default: a builtin build of the `src` or `lua` dir
			// is not guessed here; no modules are declared.
			return nil
		}
		rs.BuildType = str(build.RawGetString("type"))
		mods, _ := build.RawGetString("modules").(*lua.LTable)
		if mods == nil {
			if inst, ok := build.RawGetString("install").(*lua.LTable); ok {
				mods, _ = inst.RawGetString("lua").(*lua.LTable)
			}
		}
		if mods == nil {
			return nil
		}
		var ferr error
		mods.ForEach(func(k, v lua.LValue) {
			if ferr != nil {
				return
			}
			name, ok := k.(lua.LString)
			if !ok {
				ferr = fmt.Errorf("build.modules: a key is a %s, not a module name", k.Type())
				return
			}
			m, err := moduleOf(rs.Dir, v)
			if err != nil {
				ferr = fmt.Errorf("build.modules[%q]: %w", string(name), err)
				return
			}
			rs.Modules[string(name)] = m
		})
		return ferr
	})
	if err != nil {
		return nil, fmt.Errorf("rockspec %s: %w", path, err)
	}
	return rs, nil
}

// moduleOf reads one build.modules value: a file path, or a table of C
// sources ({ sources = {...}, libraries = ... } or an array of files).
func moduleOf(dir string, v lua.LValue) (Module, error) {
	switch t := v.(type) {
	case lua.LString:
		f := string(t)
		if strings.HasSuffix(f, ".lua") {
			return Module{File: filepath.Join(dir, filepath.FromSlash(f))}, nil
		}
		return Module{C: true, Sources: []string{f}}, nil
	case *lua.LTable:
		var srcs []string
		add := func(v lua.LValue) {
			if s, ok := v.(lua.LString); ok {
				srcs = append(srcs, string(s))
			}
		}
		switch s := t.RawGetString("sources").(type) {
		case lua.LString:
			add(s)
		case *lua.LTable:
			for i := 1; i <= s.Len(); i++ {
				add(s.RawGetInt(i))
			}
		}
		for i := 1; i <= t.Len(); i++ {
			add(t.RawGetInt(i))
		}
		return Module{C: true, Sources: srcs}, nil
	}
	return Module{}, fmt.Errorf("a %s, want a file name or a table of C sources", v.Type())
}

// ParseDependency splits "lua-resty-jwt >= 0.2" into name and constraint.
func ParseDependency(s string) Dependency {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t<>=~!")
	if i < 0 {
		return Dependency{Name: s}
	}
	return Dependency{Name: s[:i], Constraint: strings.TrimSpace(s[i:])}
}

// Plugins returns the Kong plugin names the rock installs (a module
// kong.plugins.<name>.handler), sorted.
func (r *Rockspec) Plugins() []string {
	var out []string
	for name := range r.Modules {
		rest, ok := strings.CutPrefix(name, "kong.plugins.")
		if !ok {
			continue
		}
		if p, sub, _ := strings.Cut(rest, "."); sub == "handler" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// ProviderOf guesses which of the rockspec's dependencies provides module
// (require name): a rock named after the module's leading parts, with or
// without a "lua-" prefix ("resty.jwt" -> lua-resty-jwt; "lyaml" -> lyaml),
// or a library whose module names differ from its rock's (pl -> penlight).
// "" when none of the dependencies fits.
func (r *Rockspec) ProviderOf(module string) string {
	return guessProvider(module, r.Dependencies)
}

// knownRocks are rocks whose modules are not named after them.
var knownRocks = map[string]string{
	"pl": "penlight", "lfs": "luafilesystem", "ltn12": "luasocket", "socket": "luasocket",
	"mime": "luasocket", "ssl": "luasec", "lpeg": "lpeg", "re": "lpeg", "cjson": "lua-cjson",
	"lxp": "luaexpat", "lyaml": "lyaml", "date": "date", "pb": "lua-protobuf",
}

func guessProvider(module string, deps []Dependency) string {
	norm := func(s string) string {
		s = strings.ToLower(s)
		s = strings.TrimPrefix(s, "lua-")
		return strings.NewReplacer(".", "-", "_", "-").Replace(s)
	}
	parts := strings.Split(module, ".")
	best, bestLen := "", 0
	for _, d := range deps {
		if d.Name == "lua" {
			continue
		}
		rock := norm(d.Name)
		for n := len(parts); n >= 1; n-- {
			prefix := norm(strings.Join(parts[:n], "."))
			if (rock == prefix || strings.TrimSuffix(rock, "-lua") == prefix) && n > bestLen {
				best, bestLen = d.Name, n
			}
		}
		if known, ok := knownRocks[parts[0]]; ok && bestLen == 0 && strings.EqualFold(known, d.Name) {
			best = d.Name
		}
	}
	return best
}

// evaluate runs src in a fresh state with an empty environment (string
// methods only) under Deadline, then calls read with the environment.
func evaluate(path string, src []byte, read func(L *lua.LState, env *lua.LTable) error) error {
	proto, err := luavm.Compile(filepath.Base(path), src)
	if err != nil {
		return err
	}
	L := luavm.NewState(luavm.Options{Stdout: discard{}, RegistryMaxSize: 1 << 16})
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	luavm.SetContext(L, ctx)
	env := L.NewTable()
	fn := L.NewFunctionFromProto(proto)
	fn.Env = env
	if err := luavm.CallProtected(L, fn, 0, false); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("evaluation did not finish within %s", Deadline)
		}
		var ae *lua.ApiError
		if errors.As(err, &ae) && ae.Object != nil {
			return errors.New(ae.Object.String())
		}
		return err
	}
	return read(L, env)
}

func str(v lua.LValue) string {
	switch t := v.(type) {
	case lua.LString:
		return string(t)
	case lua.LNumber:
		return luavm.FormatNumber(float64(t))
	}
	return ""
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
