// Package spec runs luahost's compatibility specs: busted-style Lua files,
// one Kong behaviour per it, under go test.
package spec

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

func TestSpecs(t *testing.T) {
	c := conf.New()
	c.Set("plugins_dir", "../plugins", "test")
	// Fixture plugins of the specs: spec/<area>/fixtures/plugins/<name>/.
	fixtures, _ := filepath.Glob("*/fixtures/plugins")
	for _, d := range fixtures {
		c.Append("plugins_dir", d, "test")
	}
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
