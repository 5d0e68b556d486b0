package router

import (
	"context"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
)

// Rows as kongdb stores and returns them (memory strategy), converted and
// routed: the adapter must read Kong's defaults, nulls and foreign keys.
func TestFromKongdbRows(t *testing.T) {
	ctx := context.Background()
	db := kongdb.New(kongdbtest.Memory(t), kongdb.DBOptions{})
	svc, err := db.DAO("services").Insert(ctx, map[string]any{"name": "s", "url": "https://upstream.test:8443/base"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	off, err := db.DAO("services").Insert(ctx, map[string]any{"name": "off", "host": "off.test", "enabled": false}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []map[string]any{
		{"name": "r1", "paths": []any{"/api"}, "service": map[string]any{"id": svc["id"]}},
		{"name": "r2", "hosts": []any{"*.example.com"}, "headers": map[string]any{"X-Team": []any{"a", "~*^b"}},
			"preserve_host": true, "strip_path": false, "service": map[string]any{"id": svc["id"]}},
		{"name": "r3", "paths": []any{"/off"}, "service": map[string]any{"id": off["id"]}},
		// sources are a stream route's (Kong's route subschemas refuse them on http)
		{"name": "r4", "protocols": []any{"tcp"}, "regex_priority": float64(3),
			"sources": []any{map[string]any{"ip": "10.0.0.0/8"}}},
	} {
		if _, err := db.DAO("routes").Insert(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	var routeRows, svcRows []map[string]any
	for _, dao := range []string{"routes", "services"} {
		seq, err := db.DAO(dao).Each(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for row, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			if dao == "routes" {
				routeRows = append(routeRows, row)
			} else {
				svcRows = append(svcRows, row)
			}
		}
	}
	routes, services, err := FromRows(routeRows, svcRows)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Route{}
	for _, r := range routes {
		byName[r.Name] = r
	}
	r1, r2, r4 := byName["r1"], byName["r2"], byName["r4"]
	if !r1.StripPath || r1.PreserveHost || r1.PathHandling != "v0" || r1.HTTPSRedirectStatusCode != 426 ||
		len(r1.Protocols) != 2 || r1.ServiceID != svc["id"] || r1.CreatedAt == 0 || r1.ID == "" {
		t.Errorf("r1 = %+v", r1)
	}
	if r2.StripPath || !r2.PreserveHost || len(r2.Headers["X-Team"]) != 2 || r2.Hosts[0] != "*.example.com" {
		t.Errorf("r2 = %+v", r2)
	}
	if r4.ServiceID != "" || r4.RegexPriority != 3 || len(r4.Sources) != 1 || r4.Sources[0].IP != "10.0.0.0/8" {
		t.Errorf("r4 = %+v", r4)
	}
	s := services[svc["id"].(string)]
	if s.Protocol != "https" || s.Host != "upstream.test" || s.Port != 8443 || s.Path != "/base" || !s.enabled() {
		t.Errorf("service = %+v", s)
	}
	if services[off["id"].(string)].enabled() {
		t.Errorf("disabled service reads enabled")
	}

	rt, err := New(routes, services)
	if err != nil {
		t.Fatal(err)
	}
	var v Versioned
	if ver, err := v.RebuildFromRows(routeRows, svcRows); err != nil || ver != 1 {
		t.Fatalf("RebuildFromRows: %d %v", ver, err)
	}
	if m := v.Match(&Request{Method: "GET", URI: "/api", Host: "h"}); m == nil || m.Route.Name != "r1" {
		t.Errorf("versioned match = %+v", m)
	}
	m := rt.Match(&Request{Method: "GET", URI: "/api/x", Host: "h", Scheme: "http"})
	if m == nil || m.Route.Name != "r1" || m.UpstreamURI != "/base/x" || m.UpstreamHost != "upstream.test:8443" || m.UpstreamScheme != "https" {
		t.Errorf("r1 match = %+v", m)
	}
	m = rt.Match(&Request{Method: "GET", URI: "/p", Host: "a.example.com", Scheme: "http",
		Headers: MapHeaders{"x-team": {"B-side"}}})
	if m == nil || m.Route.Name != "r2" || m.UpstreamHost != "a.example.com" || m.UpstreamURI != "/base/p" {
		t.Errorf("r2 match = %+v", m)
	}
	if m := rt.Match(&Request{Method: "GET", URI: "/off", Host: "h"}); m != nil {
		t.Errorf("route of a disabled service matched: %s", m.Route.Name)
	}
}
