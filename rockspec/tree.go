package rockspec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ManifestPath is where a LuaRocks tree keeps its manifest (Lua 5.1).
const ManifestPath = "lib/luarocks/rocks-5.1/manifest"

// Tree is a LuaRocks tree (`luarocks --tree DIR install ...`): pure-Lua
// modules under share/lua/5.1, C modules under lib/lua/5.1, and the
// manifest saying which rock installed which module.
type Tree struct {
	Root    string
	modules map[string]TreeModule
}

// TreeModule is a module of a tree.
type TreeModule struct {
	Name    string
	Rock    string // the rock that installed it ("" when only the file was found)
	Version string
	// File is the module's file; it may not exist (a manifest entry whose
	// file was removed).
	File string
	C    bool // a compiled module (.so)
}

// OpenTree reads root's manifest. A tree without a manifest is accepted
// (its files are still found); a manifest that does not evaluate is an
// error naming it.
func OpenTree(root string) (*Tree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("rocks tree %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("rocks tree %s: not a directory", root)
	}
	t := &Tree{Root: abs, modules: map[string]TreeModule{}}
	mpath := filepath.Join(abs, filepath.FromSlash(ManifestPath))
	src, err := os.ReadFile(mpath)
	if os.IsNotExist(err) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rocks tree %s: %w", root, err)
	}
	err = evaluate(mpath, src, func(L *lua.LState, env *lua.LTable) error {
		repo, _ := env.RawGetString("repository").(*lua.LTable)
		if repo == nil {
			return nil
		}
		// repository[rock][version] = { { arch = "installed", modules = { [mod] = "path" } } }
		repo.ForEach(func(rk, rv lua.LValue) {
			rock, _ := rk.(lua.LString)
			versions, _ := rv.(*lua.LTable)
			if rock == "" || versions == nil {
				return
			}
			versions.ForEach(func(vk, vv lua.LValue) {
				ver, _ := vk.(lua.LString)
				entries, _ := vv.(*lua.LTable)
				if entries == nil {
					return
				}
				for i := 1; i <= entries.Len(); i++ {
					e, _ := entries.RawGetInt(i).(*lua.LTable)
					if e == nil {
						continue
					}
					mods, _ := e.RawGetString("modules").(*lua.LTable)
					if mods == nil {
						continue
					}
					mods.ForEach(func(mk, mv lua.LValue) {
						name, _ := mk.(lua.LString)
						file, _ := mv.(lua.LString)
						if name == "" || file == "" {
							return
						}
						t.modules[string(name)] = t.moduleAt(string(name), string(rock), string(ver), string(file))
					})
				}
			})
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rocks tree %s: manifest %s: %w", root, mpath, err)
	}
	return t, nil
}

// moduleAt places a manifest's relative file: Lua files under
// share/lua/5.1, anything else (compiled) under lib/lua/5.1.
func (t *Tree) moduleAt(name, rock, version, rel string) TreeModule {
	m := TreeModule{Name: name, Rock: rock, Version: version}
	if strings.HasSuffix(rel, ".lua") {
		m.File = filepath.Join(t.Root, "share", "lua", "5.1", filepath.FromSlash(rel))
	} else {
		m.File = filepath.Join(t.Root, "lib", "lua", "5.1", filepath.FromSlash(rel))
		m.C = true
	}
	return m
}

// Find resolves a module name in the tree: the manifest's entry, else
// share/lua/5.1/<path>.lua, <path>/init.lua, lib/lua/5.1/<path>.so. The
// second result lists the files tried, as require does.
func (t *Tree) Find(name string) (TreeModule, bool, []string) {
	if m, ok := t.modules[name]; ok {
		return m, true, nil
	}
	p := filepath.FromSlash(strings.ReplaceAll(name, ".", "/"))
	var tried []string
	for _, cand := range []string{p + ".lua", filepath.Join(p, "init.lua")} {
		f := filepath.Join(t.Root, "share", "lua", "5.1", cand)
		if fileExists(f) {
			return TreeModule{Name: name, File: f}, true, nil
		}
		tried = append(tried, f)
	}
	f := filepath.Join(t.Root, "lib", "lua", "5.1", p+".so")
	if fileExists(f) {
		return TreeModule{Name: name, File: f, C: true}, true, nil
	}
	tried = append(tried, f)
	return TreeModule{}, false, tried
}

// Modules lists the manifest's module names, sorted.
func (t *Tree) Modules() []string {
	out := make([]string, 0, len(t.modules))
	for n := range t.modules {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
