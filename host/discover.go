package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/rockspec"
)

// Source is a plugin found on disk.
type Source struct {
	Name string
	Dir  string // directory holding handler.lua
	// Rock is the rockspec that installs the plugin, when its plugins dir
	// is a repository root with one (nil otherwise).
	Rock *rockspec.Rockspec
	// OnPath: found on the Lua path (lua_package_path, a rocks tree, the
	// system's), not in a plugins dir.
	OnPath bool
	// Bundled: enabled only as one of Kong's bundled plugins
	// (`plugins = bundled`, found on the Lua path): one that needs a module
	// luahost lacks is skipped with a warning instead of stopping the start.
	Bundled bool
}

// Discovery is what was found in plugin directories and lua_package_path.
type Discovery struct {
	Sources  map[string]*Source
	Resolver *Resolver
}

// Discover finds plugins the two ways luahost accepts: in each plugins dir
// either <dir>/<name>/handler.lua, <dir>/handler.lua (the dir is the
// plugin), or a repository root with kong/plugins/<name>/; and, as Kong
// does, under every lua_package_path entry's kong/plugins/<name>/.
// Symlinked plugin directories are followed. A plugins dir that cannot be
// read, or in which no plugin is found, is an error: a plugin lost
// silently is worse than a refusal to start.
func Discover(pluginDirs []string, packagePath string) (*Discovery, error) {
	d := &Discovery{Sources: map[string]*Source{}, Resolver: &Resolver{Plugins: map[string]string{}}}
	add := func(name, dir string) {
		if _, dup := d.Sources[name]; dup {
			return // first found wins, as require would
		}
		d.Sources[name] = &Source{Name: name, Dir: dir}
		d.Resolver.Plugins[name] = dir
	}
	for _, dir := range pluginDirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("plugins dir %s: %w", dir, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("plugins dir %s: not a directory", dir)
		}
		var found []string
		rocks, err := rockspec.Find(abs)
		if err != nil {
			return nil, fmt.Errorf("plugins dir %s: %w", dir, err)
		}
		if len(rocks) > 0 {
			n, err := d.addRocks(rocks, add)
			if err != nil {
				return nil, fmt.Errorf("plugins dir %s: %w", dir, err)
			}
			if n > 0 {
				continue
			}
		}
		switch {
		case isDir(filepath.Join(abs, "kong", "plugins")):
			d.Resolver.Roots = append(d.Resolver.Roots, abs)
			found, err = scanPlugins(filepath.Join(abs, "kong", "plugins"))
		case fileExists(filepath.Join(abs, "handler.lua")):
			found = []string{abs}
		default:
			found, err = scanPlugins(abs)
		}
		if err != nil {
			return nil, fmt.Errorf("plugins dir %s: %w", dir, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("plugins dir %s: no plugin found (want <dir>/<name>/handler.lua, "+
				"<dir>/handler.lua or <dir>/kong/plugins/<name>/handler.lua)", dir)
		}
		for _, p := range found {
			add(filepath.Base(p), p)
		}
	}
	for _, tpl := range SplitPackagePath(packagePath) {
		d.Resolver.Templates = append(d.Resolver.Templates, tpl)
		if err := d.scanPathEntry(tpl, "lua_package_path entry "+tpl); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// scanPathEntry adds the plugins under a Lua path template's
// kong/plugins/ ("<prefix>/?.lua" -> <prefix>/kong/plugins/*/handler.lua).
func (d *Discovery) scanPathEntry(tpl, what string) error {
	prefix, _, ok := strings.Cut(tpl, "?")
	if !ok {
		return nil
	}
	if prefix == "" {
		prefix = "."
	}
	found, err := scanPlugins(filepath.Join(prefix, "kong", "plugins"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var rocks []*rockspec.Rockspec
	if len(found) > 0 {
		rocks = pathRocks(prefix)
	}
	for _, p := range found {
		name := filepath.Base(p)
		if _, dup := d.Sources[name]; dup {
			continue
		}
		src := &Source{Name: name, Dir: p, OnPath: true}
		for _, rs := range rocks {
			if _, ok := rs.Modules["kong.plugins."+name+".handler"]; ok {
				src.Rock = rs
				break
			}
		}
		d.Sources[name] = src
		d.Resolver.Plugins[name] = p
	}
	return nil
}

// pathRocks reads the rockspecs at the root of a Lua path entry (a source
// tree such as Kong's, whose rockspec lists the rocks its plugins need),
// only to name the rock that provides a missing module: the modules
// resolve through the Lua path, and a rockspec that does not evaluate is
// left out (it is not the user's plugin).
func pathRocks(dir string) []*rockspec.Rockspec {
	paths, _ := rockspec.Find(dir)
	var out []*rockspec.Rockspec
	for _, p := range paths {
		if rs, err := rockspec.Parse(p); err == nil {
			out = append(out, rs)
		}
	}
	return out
}

// addRocks reads the rockspecs of a repository root and lays their modules
// out as `luarocks make` would install them: every build.modules entry
// becomes requirable by its name, each kong.plugins.<name>.handler names a
// plugin. It returns the number of plugins found.
func (d *Discovery) addRocks(paths []string, add func(name, dir string)) (int, error) {
	n := 0
	for _, p := range paths {
		rs, err := rockspec.Parse(p)
		if err != nil {
			return 0, err
		}
		d.Resolver.addRock(rs)
		for _, name := range rs.Plugins() {
			m := rs.Modules["kong.plugins."+name+".handler"]
			if m.C {
				return 0, fmt.Errorf("%s: kong.plugins.%s.handler is built from C sources (%s): luahost runs pure-Lua modules only",
					filepath.Base(p), name, strings.Join(m.Sources, ", "))
			}
			if !fileExists(m.File) {
				return 0, fmt.Errorf("%s: build.modules[\"kong.plugins.%s.handler\"]: no file %s", filepath.Base(p), name, m.File)
			}
			if _, dup := d.Sources[name]; !dup {
				add(name, filepath.Dir(m.File))
				d.Sources[name].Rock = rs
			}
			n++
		}
	}
	return n, nil
}

// AddTrees reads the LuaRocks trees (lua_rocks_trees, --rocks-tree): their
// modules resolve after lua_package_path, and plugins installed in them
// are found as Kong finds them on its Lua path.
func (d *Discovery) AddTrees(roots []string) error {
	for _, r := range roots {
		t, err := rockspec.OpenTree(r)
		if err != nil {
			return err
		}
		d.Resolver.Trees = append(d.Resolver.Trees, t)
		if err := d.scanPathEntry(filepath.Join(t.Root, "share", "lua", "5.1", "?.lua"), "rocks tree "+r); err != nil {
			return err
		}
	}
	return nil
}

// AddSystemPath puts the system's Lua directories (Debian's lua-* packages,
// a system-wide LuaRocks) last on the Lua path, as LuaJIT's default path
// ends Kong's: Penlight and inspect come from there.
func (d *Discovery) AddSystemPath() error {
	d.Resolver.System = SystemLuaPath
	for _, tpl := range SystemLuaPath {
		if err := d.scanPathEntry(tpl, "system Lua path "+tpl); err != nil {
			return err
		}
	}
	return nil
}

// SystemLuaPath is the end of the default Lua path; SystemCPath the
// directories of compiled modules, looked at only to say that a module
// is one.
var (
	SystemLuaPath = []string{"/usr/local/share/lua/5.1/?.lua", "/usr/local/share/lua/5.1/?/init.lua",
		"/usr/share/lua/5.1/?.lua", "/usr/share/lua/5.1/?/init.lua"}
	SystemCPath = []string{"/usr/local/lib/lua/5.1/?.so", "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so",
		"/usr/lib/aarch64-linux-gnu/lua/5.1/?.so", "/usr/lib/lua/5.1/?.so"}
)

// DiscoverConf discovers what a configuration names: plugins_dir,
// lua_package_path, lua_rocks_trees, then the system's Lua path.
func DiscoverConf(c *conf.Config) (*Discovery, error) {
	d, err := Discover(c.List("plugins_dir"), c.Get("lua_package_path"))
	if err != nil {
		return nil, err
	}
	if err := d.AddTrees(c.List("lua_rocks_trees")); err != nil {
		return nil, err
	}
	if err := d.AddSystemPath(); err != nil {
		return nil, err
	}
	return d, nil
}

// readDir is os.ReadDir; tests replace it to fail as an unreadable
// directory does (tests run as root, where permissions do not).
var readDir = os.ReadDir

// scanPlugins lists the subdirectories of root (symlinks followed) that
// hold a handler.lua, sorted by name.
func scanPlugins(root string) ([]string, error) {
	entries, err := readDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if !isDir(dir) { // dangling, or a link to a file
				continue
			}
		} else if !e.IsDir() {
			continue
		}
		if fileExists(filepath.Join(dir, "handler.lua")) {
			out = append(out, dir)
		}
	}
	return out, nil
}

// Enabled resolves the `plugins` property against what was found:
// "bundled" (Kong's default) means Kong's bundled plugins (BundledPlugins)
// wherever they were found, plus every plugin of the plugins dirs; an
// empty list means every plugin found; "off" means none; any other name
// must have been found. A bundled plugin found on the Lua path and not
// named explicitly is marked Bundled (skipped when a module is missing).
func (d *Discovery) Enabled(names []string) ([]*Source, error) {
	var out []*Source
	seen := map[string]bool{}
	explicit := map[string]bool{}
	for _, n := range names {
		if n != "bundled" && n != "off" {
			explicit[n] = true
		}
	}
	var missing []string
	for _, n := range names {
		switch n {
		case "off":
			return nil, nil
		case "bundled":
			for _, b := range BundledPlugins {
				if s, ok := d.Sources[b]; ok && !seen[b] {
					seen[b] = true
					s.Bundled = s.OnPath && !explicit[b]
					out = append(out, s)
				}
			}
			for _, s := range d.sorted() {
				if !s.OnPath && !seen[s.Name] {
					seen[s.Name] = true
					out = append(out, s)
				}
			}
			continue
		}
		s, ok := d.Sources[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, s)
		}
	}
	if len(names) == 0 {
		out = d.sorted()
	}
	if len(missing) > 0 {
		var msgs []string
		for _, n := range missing {
			_, tried := d.Resolver.Find("kong.plugins." + n + ".handler")
			msgs = append(msgs, fmt.Sprintf("%s plugin is enabled but not installed;\nmodule 'kong.plugins.%s.handler' not found:\n\t%s",
				n, n, strings.Join(tried, "\n\t")))
		}
		return nil, fmt.Errorf("%s", strings.Join(msgs, "\n"))
	}
	return out, nil
}

func (d *Discovery) sorted() []*Source {
	out := make([]*Source, 0, len(d.Sources))
	for _, s := range d.Sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
