// Package plugins holds luahost's example Kong plugins; this test runs
// their own busted specs (plugins/*/spec/*_spec.lua) on the embedded
// store, as `luahost test --plugins-dir plugins plugins` does.
package plugins

import (
	"io"
	"log/slog"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

func TestPluginSpecs(t *testing.T) {
	c := conf.New()
	c.Set("plugins_dir", ".", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	files, err := host.FindSpecs(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no spec found")
	}
	hosttest.RunSpecsT(t, h, files)
}
