package host

import (
	"strings"
	"testing"
)

// The generations report: each API with the Kong versions that have it,
// where it was seen, and the versions accepting the whole plugin.
func TestGenerations(t *testing.T) {
	h := newTestHost(t, testConf(t, "testdata/generations", "testdata/rock"))
	h.LoadMigrations()
	type want struct {
		apis         []string // name prefix @ where
		since, until string
		accepted     bool
	}
	for name, w := range map[string]want{
		"oldie": {[]string{
			"kong.tools.database_cache@handler.lua:3", "0.x DAO@handler.lua:16", "hooks.lua@hooks.lua",
			"BasePlugin@handler.lua:2", "kong.singletons@handler.lua:4", "map-form daos.lua@daos.lua",
			"handler without VERSION@handler.lua",
		}, "", "0.11.0", true},
		"twoer": {[]string{
			"BasePlugin@handler.lua:2", "kong.singletons@handler.lua:3", "handler without VERSION@handler.lua",
			"cassandra migrations@migrations/000_base_twoer.lua", "PDK@handler.lua:14",
		}, "0.14.0", "3.0.0", true},
		"rocky": {[]string{"plain-table handler@handler.lua"}, "1.2.0", "", true},
		// a removed API beside a later one: no Kong accepts it
		"mixed": {[]string{"kong.tools.database_cache@handler.lua:1", "plain-table handler@handler.lua"}, "1.2.0", "0.11.0", false},
	} {
		g := h.Generations(h.Plugin(name))
		var got []string
		for _, a := range g.APIs {
			got = append(got, a.Name+"@"+a.Where)
		}
		if len(got) != len(w.apis) {
			t.Errorf("%s: apis %q, want %q", name, got, w.apis)
			continue
		}
		for _, wa := range w.apis {
			pre, where, _ := strings.Cut(wa, "@")
			found := false
			for _, a := range g.APIs {
				if strings.HasPrefix(a.Name, pre) && a.Where == where {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %s not reported at %s: %q", name, pre, where, got)
			}
		}
		if g.Since != w.since || g.Until != w.until || g.Accepted != w.accepted {
			t.Errorf("%s: since %q until %q accepted %v", name, g.Since, g.Until, g.Accepted)
		}
	}
	if !versionLess("0.11.0", "1.2.0") || versionLess("3.0.0", "3.0") || !versionLess("2.8.4", "3.0.0") {
		t.Fatal("versionLess")
	}
}
