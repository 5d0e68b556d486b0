package router

import (
	"strings"
	"testing"
)

// Ordering conflicts, from the priority of transform.lua get_priority and
// the ATC router's order (descending priority, then descending uuid).
func TestOrdering(t *testing.T) {
	t.Run("regex beats prefix of the same weight", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Paths: []string{"/users/1"}},
			Route{ID: id(1), Paths: []string{`~/users/\d+`}},
		))
		runCases(t, r, []routeCase{{"regex", get("GET", "/users/1", "h"), 1}})
	})
	t.Run("higher regex_priority first", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Paths: []string{`~/a/.*`}, RegexPriority: 1},
			Route{ID: id(1), Paths: []string{`~/a/b`}, RegexPriority: 10},
		))
		runCases(t, r, []routeCase{
			{"/a/b", get("GET", "/a/b", "h"), 1},
			{"/a/c", get("GET", "/a/c", "h"), 9},
		})
	})
	t.Run("negative regex_priority ranks below zero", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Paths: []string{`~/.*`}, RegexPriority: -1},
			Route{ID: id(1), Paths: []string{`~/x`}},
		))
		runCases(t, r, []routeCase{{"/x", get("GET", "/x", "h"), 1}})
	})
	t.Run("regex_priority is ignored for prefix paths", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Paths: []string{"/a"}, RegexPriority: 100},
			Route{ID: id(1), Paths: []string{"/a/b"}},
		))
		runCases(t, r, []routeCase{{"longest prefix", get("GET", "/a/b/c", "h"), 1}})
	})
	t.Run("longest prefix wins", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Paths: []string{"/"}},
			Route{ID: id(8), Paths: []string{"/api"}},
			Route{ID: id(1), Paths: []string{"/api/v1"}},
		))
		runCases(t, r, []routeCase{
			{"/api/v1/x", get("GET", "/api/v1/x", "h"), 1},
			{"/api/v2", get("GET", "/api/v2", "h"), 8},
			{"/other", get("GET", "/other", "h"), 9},
		})
	})
	t.Run("exact host beats wildcard host", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Hosts: []string{"*.example.com"}},
			Route{ID: id(1), Hosts: []string{"api.example.com"}},
		))
		runCases(t, r, []routeCase{
			{"exact", get("GET", "/", "api.example.com"), 1},
			{"wildcard", get("GET", "/", "www.example.com"), 9},
		})
	})
	t.Run("more fields beat a longer prefix", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Paths: []string{"/very/long/prefix"}},
			Route{ID: id(1), Paths: []string{"/v"}, Methods: []string{"GET"}},
		))
		runCases(t, r, []routeCase{
			{"GET", get("GET", "/very/long/prefix", "h"), 1},
			{"POST", get("POST", "/very/long/prefix", "h"), 9},
		})
	})
	t.Run("method + host + path beats host + path", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(9), Hosts: []string{"h"}, Paths: []string{"/a/b/c"}},
			Route{ID: id(1), Hosts: []string{"h"}, Paths: []string{"/a"}, Methods: []string{"GET"}},
		))
		runCases(t, r, []routeCase{{"GET", get("GET", "/a/b/c", "h"), 1}})
	})
	t.Run("ties go to the greater route id", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"/same"}},
			Route{ID: id(2), Paths: []string{"/same"}},
		))
		runCases(t, r, []routeCase{{"id 2", get("GET", "/same", "h"), 2}})
	})
}

func TestPriorityLayout(t *testing.T) {
	p := priority(&Route{Hosts: []string{"a"}, Methods: []string{"GET"}, Headers: map[string][]string{"x": {"1"}, "y": {"2"}}},
		[]string{"/abc"})
	want := uint64(4)<<61 | 1<<60 | uint64(2)<<52 | 4
	if p != want {
		t.Errorf("priority = %#x, want %#x", p, want)
	}
	p = priority(&Route{RegexPriority: 3}, []string{"~/x"})
	want = uint64(1)<<61 | 1<<51 | (uint64(3)+1<<31)<<19
	if p != want {
		t.Errorf("regex priority = %#x, want %#x", p, want)
	}
	if priority(&Route{Hosts: []string{"*.a"}}, nil)&plainHostBit != 0 {
		t.Errorf("wildcard host sets the plain host bit")
	}
}

// transform.lua split_routes_and_services_by_path: the split parts get uuid
// v5 ids, as resty.jit-uuid factory_v5 (its t/05-v5.t vectors).
func TestUUIDv5(t *testing.T) {
	ns := mustParseUUID("e6ebd542-06ae-11e6-8e82-bba81706b27d")
	for name, want := range map[string]string{
		"hello":  "4850816f-1658-5890-8bfd-1ed14251f1f0",
		"foobar": "c9be99fc-326b-5066-bdba-dcd31a6d01ab",
	} {
		if got := uuidV5(ns, name); got != want {
			t.Errorf("v5(%q) = %s, want %s", name, got, want)
		}
	}
	if g := pathGroups([]string{"~/regex.*$", "/long-path", "/one", "/two", "/three", "~/.*"}); len(g) != 4 ||
		strings.Join(g[0], ",") != "~/regex.*$,~/.*" || strings.Join(g[2], ",") != "/one,/two" {
		t.Errorf("groups = %q", g)
	}
}

// Regexes: Go's regexp where it compiles, regexp2 (PCRE-like) otherwise.
func TestRegexEngines(t *testing.T) {
	for _, c := range []struct {
		src    string
		engine regexEngine
	}{
		{`^/users/(?<id>\d+)`, engineRE2},
		{`^/users/(?P<id>\d+)`, engineRE2},
		{`^/(?!admin)\w+`, engineRegexp2},
		{`^/(\w+)/\1`, engineRegexp2},
		{`^/(?<=/)x`, engineRegexp2},
	} {
		p, err := compilePattern(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if p.engine() != c.engine {
			t.Errorf("%s: engine %s, want %s", c.src, p.engine(), c.engine)
		}
	}
	r := mustNew(t, withSvc(
		Route{ID: id(1), Paths: []string{`~/(?!admin)(?<section>\w+)/(\d+)`}},
		Route{ID: id(2), Paths: []string{`~/(\w+)/\1$`}},
		Route{ID: id(3), Paths: []string{`~/admin`}, RegexPriority: -5},
	))
	runCases(t, r, []routeCase{
		{"lookahead", get("GET", "/books/12", "h"), 1},
		{"backreference", get("GET", "/echo/echo", "h"), 2},
		{"lookahead excludes admin", get("GET", "/admin/12", "h"), 3},
	})
	m := r.Match(get("GET", "/books/12", "h"))
	sec, _ := m.URICaptures.Named("section")
	g1, _ := m.URICaptures.Group(1)
	g2, _ := m.URICaptures.Group(2)
	if sec != "books" || g1 != "books" || g2 != "12" || m.URICaptures.Name(1) != "section" {
		t.Errorf("regexp2 captures: section=%q [1]=%q [2]=%q", sec, g1, g2)
	}
	// captures are numbered in pattern order, as PCRE does
	m = mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/(?<a>x)(y)(?=z)`}})).Match(get("GET", "/xyz", "h"))
	if g1, _ := m.URICaptures.Group(1); g1 != "x" {
		t.Errorf("[1] = %q", g1)
	}
	if g2, _ := m.URICaptures.Group(2); g2 != "y" {
		t.Errorf("[2] = %q", g2)
	}
	// multi-byte text: offsets are bytes
	m = mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/é/(?=.)(.+)`}})).Match(get("GET", "/%C3%A9/ñx", "h"))
	if g1, _ := m.URICaptures.Group(1); m == nil || g1 != "ñx" {
		t.Errorf("utf-8 capture = %q", g1)
	}
}

func TestBuildErrors(t *testing.T) {
	_, err := New(withSvc(Route{ID: id(1), Name: "bad-one", Paths: []string{`~/(unclosed`}}), testServices)
	if err == nil || !strings.Contains(err.Error(), id(1)) || !strings.Contains(err.Error(), "bad-one") {
		t.Errorf("err = %v", err)
	}
	_, err = New(withSvc(Route{ID: id(2), Headers: map[string][]string{"x": {"~*(("}}}), testServices)
	if err == nil || !strings.Contains(err.Error(), id(2)) {
		t.Errorf("header regex err = %v", err)
	}
	_, err = New(withSvc(Route{ID: id(3), Sources: []CIDRPort{{IP: "nope"}}}), testServices)
	if err == nil || !strings.Contains(err.Error(), id(3)) {
		t.Errorf("sources err = %v", err)
	}
	if _, err = New([]Route{{Paths: []string{"/"}}}, nil); err == nil {
		t.Errorf("route without id accepted")
	}
}

// A catastrophic PCRE-only pattern gives up (no match) instead of spinning
// (without the bounds this test runs until go test's timeout).
func TestRegexp2Bounded(t *testing.T) {
	r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/(?=(a+)+$)x`}}, Route{ID: id(2), Paths: []string{"/"}}))
	m := r.Match(get("GET", "/"+strings.Repeat("a", 40)+"!", "h"))
	if m == nil || m.Route.ID != id(2) {
		t.Fatalf("%+v", m)
	}
}

// Kong's traditional router (WithTraditional) breaks a tie between routes
// of the same weight by created_at, oldest first (traditional.lua
// sort_routes); traditional_compatible by descending id.
func TestTraditionalCreatedAtTies(t *testing.T) {
	routes := func() []Route {
		return withSvc(
			Route{ID: id(1), Paths: []string{`~/status/(ab)`}, CreatedAt: 1234567890},
			Route{ID: id(2), Paths: []string{`~/status/(ab)c?`}, CreatedAt: 1234567891},
		)
	}
	runCases(t, mustNew(t, routes()), []routeCase{{"compatible: highest id", get("GET", "/status/ab", "h"), 2}})
	runCases(t, mustNew(t, routes(), WithTraditional()), []routeCase{{"traditional: oldest", get("GET", "/status/ab", "h"), 1}})
}
