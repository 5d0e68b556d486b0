package host

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mkPlugin(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(dir, "handler.lua"), "return { PRIORITY = 1, VERSION = '1.0.0' }\n"); err != nil {
		t.Fatal(err)
	}
}

// A plugin directory that is a symlink is a plugin, named after the link,
// in a plugins dir and in a repository root alike.
func TestDiscoverFollowsSymlinks(t *testing.T) {
	tmp := t.TempDir()
	mkPlugin(t, filepath.Join(tmp, "elsewhere", "real"))
	pd := filepath.Join(tmp, "plugins")
	repo := filepath.Join(tmp, "repo", "kong", "plugins")
	for _, d := range []string{pd, repo} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mkPlugin(t, filepath.Join(pd, "plain"))
	if err := os.Symlink(filepath.Join(tmp, "elsewhere", "real"), filepath.Join(pd, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tmp, "elsewhere", "real"), filepath.Join(repo, "repolinked")); err != nil {
		t.Fatal(err)
	}
	// a dangling link is not a plugin, and not an error
	if err := os.Symlink(filepath.Join(tmp, "nowhere"), filepath.Join(pd, "dangling")); err != nil {
		t.Fatal(err)
	}
	d, err := Discover([]string{pd, filepath.Join(tmp, "repo")}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plain", "linked", "repolinked"} {
		if d.Sources[name] == nil {
			t.Errorf("plugin %q not found: %v", name, d.Sources)
		}
	}
	if len(d.Sources) != 3 {
		t.Errorf("sources: %v", d.Sources)
	}
}

// A configured plugins dir that cannot be read, or holds no plugin, is an
// error naming it (it used to give "no plugin enabled" and exit 0).
func TestDiscoverReportsUnusablePluginsDir(t *testing.T) {
	empty := t.TempDir()
	if _, err := Discover([]string{empty}, ""); err == nil || !strings.Contains(err.Error(), "plugins dir "+empty+": no plugin found") {
		t.Fatalf("empty plugins dir: %v", err)
	}
	// not a plugin: a subdirectory without handler.lua
	if err := os.Mkdir(filepath.Join(empty, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Discover([]string{empty}, ""); err == nil {
		t.Fatal("a plugins dir with no handler.lua was accepted")
	}

	unreadable := t.TempDir()
	mkPlugin(t, filepath.Join(unreadable, "p"))
	orig := readDir
	t.Cleanup(func() { readDir = orig })
	readDir = func(name string) ([]os.DirEntry, error) {
		if name == unreadable {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return orig(name)
	}
	_, err := Discover([]string{unreadable}, "")
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "plugins dir "+unreadable) {
		t.Fatalf("unreadable plugins dir: %v", err)
	}
	// lua_package_path entries without kong/plugins are normal
	if _, err := Discover(nil, filepath.Join(empty, "?.lua")+";;"); err != nil {
		t.Fatalf("package path without plugins: %v", err)
	}
}
