package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Source is a plugin found on disk.
type Source struct {
	Name string
	Dir  string // directory holding handler.lua
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
		// "<prefix>/?.lua" -> look in <prefix>/kong/plugins/*/handler.lua
		prefix, _, ok := strings.Cut(tpl, "?")
		if !ok {
			continue
		}
		if prefix == "" {
			prefix = "."
		}
		found, err := scanPlugins(filepath.Join(prefix, "kong", "plugins"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lua_package_path entry %s: %w", tpl, err)
		}
		for _, p := range found {
			add(filepath.Base(p), p)
		}
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
// "bundled" (Kong's default) and an empty list mean every plugin found,
// "off" means none; any other name must have been found.
func (d *Discovery) Enabled(names []string) ([]*Source, error) {
	var out []*Source
	seen := map[string]bool{}
	var missing []string
	for _, n := range names {
		switch n {
		case "off":
			return nil, nil
		case "bundled":
			for _, s := range d.sorted() {
				if !seen[s.Name] {
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
