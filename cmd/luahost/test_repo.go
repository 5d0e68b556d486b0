package main

// luahost test in a plugin repository's root, as Pongo runs it: the
// repository is the plugins dir (kong/plugins/<name>/, or what its
// rockspec's build.modules installs), KONG_LUA_PATH_OVERRIDE comes first
// on the Lua path, and the database is Kong's test database
// (spec/kong_tests.conf: pg_database = kong_tests).

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/luahost/luahost/conf"
)

// testRepoDefaults adjusts the test run's configuration for the current
// directory. What the user set (configuration file, KONG_* variables,
// options) is kept.
func testRepoDefaults(c *conf.Config) {
	switch {
	case isKongTree("."):
		// Kong's own source tree: its specs run as Kong's bin/busted runs
		// them, with the tree on the Lua path (Kong's .busted lpath), so
		// kong/plugins/* are the bundled plugins found on the path (one
		// lacking a module luahost lacks is skipped with a warning), not
		// a plugin repository's plugins (which must all load); and with
		// Kong's test configuration, spec/kong_tests.conf, under what the
		// user set (its fixture plugins, on its lua_package_path)
		kongTestsDefaults(c)
		c.Set("lua_package_path", "./?.lua;./?/init.lua;"+c.Get("lua_package_path"), "luahost test: Kong's source tree")
	case strings.TrimSpace(c.Get("plugins_dir")) == "" && isPluginRepo("."):
		c.Append("plugins_dir", ".", "luahost test: plugin repository")
	}
	if over := os.Getenv("KONG_LUA_PATH_OVERRIDE"); over != "" {
		c.Set("lua_package_path", strings.TrimSuffix(over, ";")+";"+c.Get("lua_package_path"), "env KONG_LUA_PATH_OVERRIDE")
	}
	if c.Source("pg_database") == "default" {
		c.Set("pg_database", "kong_tests", "luahost test (Kong's spec/kong_tests.conf)")
	}
	// Kong's specs (and Pongo's runs, with Kong's test configuration)
	// count on a request seeing the Admin API writes made before it
	if c.Source("worker_consistency") == "default" {
		c.Set("worker_consistency", "strict", "luahost test (Kong's spec/kong_tests.conf)")
	}
	// every run (each --watch round too) makes a host and its shared
	// cache: clearing Kong's default 128 MB for it took up to a second
	// now and then; a spec's entities fit in far less
	if c.Source("mem_cache_size") == "default" {
		c.Set("mem_cache_size", testMemCacheSize, "luahost test")
	}
}

// testMemCacheSize is luahost test's default mem_cache_size.
const testMemCacheSize = "4m"

// kongTestsConf is the source name of the properties read from Kong's
// spec/kong_tests.conf.
const kongTestsConf = "spec/kong_tests.conf"

// kongTestsDefaults sets the properties of Kong's spec/kong_tests.conf
// that the user left at their defaults (KONG_* variables, a -c file and
// options win, as over Kong's test configuration). The listeners are spec
// nodes' own (Kong's ports), prefix has no meaning here.
func kongTestsDefaults(c *conf.Config) {
	props, err := conf.ReadFile(kongTestsConf)
	if err != nil {
		return
	}
	for _, p := range props {
		k := strings.TrimSpace(p[0])
		switch {
		case k == "prefix" || strings.HasSuffix(k, "_listen"):
			continue
		case c.Has(k) && c.Source(k) != "default":
			continue
		}
		c.Set(k, p[1], kongTestsConf)
	}
}

// isKongTree says whether dir is Kong's own source tree (kong/meta.lua
// and kong/runloop/handler.lua), whose kong/plugins/ are Kong's bundled
// plugins.
func isKongTree(dir string) bool {
	for _, f := range []string{"kong/meta.lua", "kong/runloop/handler.lua"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// isPluginRepo says whether dir looks like a plugin repository: a
// kong/plugins/ directory or a rockspec.
func isPluginRepo(dir string) bool {
	if st, err := os.Stat(filepath.Join(dir, "kong", "plugins")); err == nil && st.IsDir() {
		return true
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.rockspec"))
	return len(m) > 0
}
