package host

import (
	"context"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
)

// iterHost is a host with only plugin descriptions (no workers, no DB):
// enough to build iterators from rows.
func iterHost(plugins ...*Plugin) *Host {
	sortByPriority(plugins)
	return &Host{Plugins: plugins, Root: &pdk.Root{}}
}

func pluginRow(id, name, route, service, consumer, tag string) map[string]any {
	ref := func(v string) any {
		if v == "" {
			return schema.Null
		}
		return map[string]any{"id": v}
	}
	return map[string]any{"id": id, "name": name, "enabled": true, "protocols": []any{"http", "https"},
		"route": ref(route), "service": ref(service), "consumer": ref(consumer),
		"config": map[string]any{"tag": tag, "gone": schema.Null}}
}

// Kong's lookup_cfg order, most specific first: each configuration wins
// over all those below it, and a request only gets the configurations
// whose ids it has.
func TestIteratorPrecedence(t *testing.T) {
	h := iterHost(&Plugin{Name: "p", Priority: 10, Phases: []string{"access"}})
	// every combination a plugins row can have, most specific first
	combos := []struct{ route, service, consumer, tag string }{
		{"R", "S", "C", "route+service+consumer"},
		{"R", "", "C", "route+consumer"},
		{"", "S", "C", "service+consumer"},
		{"R", "S", "", "route+service"},
		{"", "", "C", "consumer"},
		{"R", "", "", "route"},
		{"", "S", "", "service"},
		{"", "", "", "global"},
	}
	ctx := context.Background()
	for drop := 0; drop < len(combos); drop++ {
		var rows []map[string]any
		for i, c := range combos[drop:] {
			rows = append(rows, pluginRow("id"+string(rune('0'+i)), "p", c.route, c.service, c.consumer, c.tag))
		}
		it, err := h.buildIterator(ctx, rows, 1)
		if err != nil {
			t.Fatal(err)
		}
		cfg := it.Lookup("p", "R", "S", "C")
		if cfg == nil || cfg.Config["tag"] != combos[drop].tag {
			t.Errorf("with %q the most specific, got %v", combos[drop].tag, cfg)
		}
		if _, ok := cfg.Config["gone"]; ok {
			t.Error("a null config field is kept (Kong's rows have nulls removed)")
		}
	}
	// all eight present: what each kind of request gets
	var rows []map[string]any
	for i, c := range combos {
		rows = append(rows, pluginRow("id"+string(rune('0'+i)), "p", c.route, c.service, c.consumer, c.tag))
	}
	// a configuration for another route, service and consumer never applies
	rows = append(rows, pluginRow("x1", "p", "R2", "S2", "C2", "other"))
	it, err := h.buildIterator(ctx, rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ route, service, consumer, want string }{
		{"R", "S", "C", "route+service+consumer"},
		{"R", "", "C", "route+consumer"},
		{"R9", "S", "C", "service+consumer"},
		{"R", "S", "", "route+service"},
		{"R9", "S9", "C", "consumer"},
		{"R", "S9", "", "route"},
		{"R9", "S", "", "service"},
		{"R9", "S9", "C9", "global"},
		{"", "", "", "global"},
	} {
		if cfg := it.Lookup("p", tc.route, tc.service, tc.consumer); cfg == nil || cfg.Config["tag"] != tc.want {
			t.Errorf("request %s/%s/%s: got %v, want %s", tc.route, tc.service, tc.consumer, cfg, tc.want)
		}
	}
}

// handler.no_consumer / no_route / no_service: the id is left out of the
// lookup, so configurations scoped by it never apply.
func TestIteratorScopeRestrictions(t *testing.T) {
	ctx := context.Background()
	rows := func(name string) []map[string]any {
		return []map[string]any{
			pluginRow("1", name, "R", "", "", "route"),
			pluginRow("2", name, "", "S", "", "service"),
			pluginRow("3", name, "", "", "C", "consumer"),
			pluginRow("4", name, "", "", "", "global"),
		}
	}
	for _, tc := range []struct {
		p    *Plugin
		want string
	}{
		{&Plugin{Name: "plain"}, "consumer"},
		{&Plugin{Name: "nc", NoConsumer: true}, "route"},
		{&Plugin{Name: "nr", NoConsumer: true, NoRoute: true}, "service"},
		{&Plugin{Name: "ns", NoConsumer: true, NoRoute: true, NoService: true}, "global"},
	} {
		h := iterHost(tc.p)
		it, err := h.buildIterator(ctx, rows(tc.p.Name), 1)
		if err != nil {
			t.Fatal(err)
		}
		if cfg := it.Lookup(tc.p.Name, "R", "S", "C"); cfg == nil || cfg.Config["tag"] != tc.want {
			t.Errorf("%s: got %v, want %s", tc.p.Name, cfg, tc.want)
		}
	}
}

// Disabled rows and rows for other subsystems are left out; globals are
// kept per phase in priority order (ties by name, descending); a row of a
// plugin that is not enabled fails the build, as in Kong.
func TestIteratorBuild(t *testing.T) {
	ctx := context.Background()
	all := []string{"rewrite", "access", "header_filter", "body_filter", "log"}
	h := iterHost(
		&Plugin{Name: "low", Priority: 1, Phases: all},
		&Plugin{Name: "alpha", Priority: 100, Phases: []string{"access", "log"}},
		&Plugin{Name: "beta", Priority: 100, Phases: all},
		&Plugin{Name: "high", Priority: 1000, Phases: []string{"header_filter"}},
		&Plugin{Name: "off", Priority: 50, Phases: all},
		&Plugin{Name: "tcp", Priority: 60, Phases: all},
	)
	disabled := pluginRow("d", "off", "", "", "", "x")
	disabled["enabled"] = false
	stream := pluginRow("t", "tcp", "", "", "", "x")
	stream["protocols"] = []any{"tcp", "tls"}
	rows := []map[string]any{
		pluginRow("1", "low", "", "", "", "g"),
		pluginRow("2", "alpha", "", "", "", "g"),
		pluginRow("3", "beta", "", "", "", "g"),
		pluginRow("4", "high", "R", "", "", "r"),
		disabled, stream,
	}
	it, err := h.buildIterator(ctx, rows, 7)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, p := range it.plugins {
		order = append(order, p.desc.Name)
	}
	if got := strings.Join(order, " "); got != "high beta alpha low" {
		t.Errorf("plugins order %q", got)
	}
	names := func(ph int) string {
		var out []string
		for _, e := range it.globals[ph] {
			out = append(out, e.p.desc.Name)
		}
		return strings.Join(out, " ")
	}
	if got := names(phLog); got != "beta alpha low" {
		t.Errorf("global log plugins %q", got)
	}
	if got := names(phRewrite); got != "beta low" {
		t.Errorf("global rewrite plugins %q", got)
	}
	if got := names(phHeaderFilter); got != "beta low" {
		t.Errorf("global header_filter plugins %q (a route's plugin is not global)", got)
	}
	if len(it.Configs) != 4 || it.Version != 7 {
		t.Errorf("%d configs, version %d", len(it.Configs), it.Version)
	}

	_, err = h.buildIterator(ctx, append(rows, pluginRow("9", "gone", "", "", "", "x")), 8)
	if err == nil || err.Error() != "gone plugin is in use but not enabled" {
		t.Errorf("unknown plugin row: %v", err)
	}
}
