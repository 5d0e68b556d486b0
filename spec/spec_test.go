// Package spec runs luahost's compatibility specs: busted-style Lua files,
// one Kong behaviour per it, under go test, on every strategy.
package spec

import (
	"path/filepath"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

func specConf() *conf.Config {
	c := conf.New()
	c.Set("plugins_dir", "../plugins", "test")
	// Fixture plugins of the specs: spec/<area>/fixtures/plugins/<name>/.
	fixtures, _ := filepath.Glob("*/fixtures/plugins")
	for _, d := range fixtures {
		c.Append("plugins_dir", d, "test")
	}
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	return c
}

// TestSpecs runs every spec file once per strategy (memory, PostgreSQL),
// from the same source, as Kong's helpers.each_strategy loops do.
func TestSpecs(t *testing.T) {
	files, err := host.FindSpecs(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no spec found")
	}
	hosttest.EachStrategy(t, specConf, func(t *testing.T, h *host.Host) {
		hosttest.RunSpecsT(t, h, files)
	})
}
