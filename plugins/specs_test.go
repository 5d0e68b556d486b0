// Package plugins holds luahost's example Kong plugins; this test runs
// their own busted specs (plugins/*/spec/*_spec.lua) on every strategy, as
// `luahost test --plugins-dir plugins plugins` does on the embedded store.
package plugins

import (
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

func TestPluginSpecs(t *testing.T) {
	files, err := host.FindSpecs(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no spec found")
	}
	hosttest.EachStrategy(t, func() *conf.Config {
		c := conf.New()
		c.Set("plugins_dir", ".", "test")
		c.Set("lua_package_path", "", "test")
		c.Set("mem_cache_size", "4m", "test")
		return c
	}, func(t *testing.T, h *host.Host) {
		hosttest.RunSpecsT(t, h, files)
	})
}
