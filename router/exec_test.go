package router

import (
	"net/netip"
	"testing"
)

// describe("exec()") of spec/01-unit/08-router_spec.lua, and the
// traditional_compatible-only its around it.

func TestExecUpstream(t *testing.T) {
	t.Run("returns parsed upstream_url + upstream_uri", func(t *testing.T) {
		svcs := map[string]*Service{
			"a": {ID: "a", Protocol: "http", Host: "example.org"},
			"b": {ID: "b", Protocol: "https", Host: "example.org"},
		}
		r, err := New([]Route{
			{ID: id(1), Paths: []string{"/my-route"}, ServiceID: "a"},
			{ID: id(2), Paths: []string{"/my-route-2"}, ServiceID: "b"},
		}, svcs)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Match(get("GET", "/my-route", "domain.org"))
		if m.Route.ID != id(1) || m.UpstreamHostname != "example.org" || m.UpstreamPort != 80 ||
			m.UpstreamScheme != "http" || m.UpstreamURI != "/my-route" || m.PreserveHost {
			t.Errorf("route 1: %+v", m)
		}
		// not preserve_host: Kong leaves upstream_host nil and the balancer
		// sends the service host, without the default port
		if m.UpstreamHost != "example.org" {
			t.Errorf("UpstreamHost = %q", m.UpstreamHost)
		}
		m = r.Match(get("GET", "/my-route-2", "domain.org"))
		if m.Route.ID != id(2) || m.UpstreamPort != 443 || m.UpstreamScheme != "https" || m.UpstreamURI != "/my-route-2" {
			t.Errorf("route 2: %+v", m)
		}
	})
	t.Run("parses upstream_url port", func(t *testing.T) {
		svcs := map[string]*Service{
			"a": {ID: "a", Protocol: "http", Host: "example.org", Port: 8080},
			"b": {ID: "b", Protocol: "https", Host: "example.org", Port: 8443},
		}
		r, _ := New([]Route{
			{ID: id(1), Paths: []string{"/my-route"}, ServiceID: "a"},
			{ID: id(2), Paths: []string{"/my-route-2"}, ServiceID: "b"},
		}, svcs)
		if m := r.Match(get("GET", "/my-route", "d")); m.UpstreamPort != 8080 || m.UpstreamHost != "example.org:8080" {
			t.Errorf("8080: %+v", m)
		}
		if m := r.Match(get("GET", "/my-route-2", "d")); m.UpstreamPort != 8443 || m.UpstreamHost != "example.org:8443" {
			t.Errorf("8443: %+v", m)
		}
	})
	t.Run("works with special characters", func(t *testing.T) {
		svcs := map[string]*Service{
			"a": {ID: "a", Protocol: "http", Host: "example.org"},
			"b": {ID: "b", Protocol: "https", Host: "example.org"},
		}
		r, err := New([]Route{
			{ID: id(1), Paths: []string{`/\d`}, ServiceID: "a"},
			{ID: id(2), Paths: []string{`~/\d+"`}, ServiceID: "b"},
		}, svcs)
		if err != nil {
			t.Fatal(err)
		}
		if m := r.Match(get("GET", `/\d`, "domain.org")); m == nil || m.Route.ID != id(1) || m.UpstreamURI != `/\d` {
			t.Errorf(`/\d: %+v`, m)
		}
		if m := r.Match(get("GET", `/123"`, "domain.org")); m == nil || m.Route.ID != id(2) || m.UpstreamURI != `/123"` || m.UpstreamPort != 443 {
			t.Errorf(`/123": %+v`, m)
		}
	})
	t.Run("allows url encoded paths if they are reserved characters", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/endel%2Fst"}}))
		m := r.Match(get("GET", "/endel%2Fst", "domain.org"))
		if m == nil || m.UpstreamURI != "/endel%2Fst" {
			t.Errorf("%+v", m)
		}
		// %2f is upper-cased by the normalisation before matching
		if m := r.Match(get("GET", "/endel%2fst", "domain.org")); m == nil {
			t.Errorf("lower-case %%2f did not match")
		}
	})
	t.Run("query string is not part of the path", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/a"}, StripPath: true}))
		m := r.Match(get("GET", "/a/b?x=/c", "h"))
		if m == nil || m.UpstreamURI != "/b" || m.Path != "/a/b" {
			t.Errorf("%+v", m)
		}
	})
}

func TestExecCaptures(t *testing.T) {
	t.Run("uri_captures works well with the optional capture group. Fix #13014", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/(users/)?1984/(?<subpath>profile)$`}}))
		m := r.Match(get("GET", "/1984/profile", "domain.org"))
		if m == nil || m.URICaptures == nil {
			t.Fatalf("%+v", m)
		}
		if _, ok := m.URICaptures.Group(1); ok {
			t.Errorf("group 1 took part")
		}
		if v, _ := m.URICaptures.Named("subpath"); v != "profile" {
			t.Errorf("subpath = %q", v)
		}
		if _, ok := m.URICaptures.Named("scope"); ok {
			t.Errorf("scope exists")
		}
	})
	t.Run("returns uri_captures from a [uri regex]", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/users/(?P<user_id>\d+)/profile/?(?P<scope>[a-z]*)`}}))
		for _, c := range []struct{ uri, scope, whole string }{
			{"/users/1984/profile", "", "/users/1984/profile"},
			{"/users/1984/profile/email", "email", "/users/1984/profile/email"},
		} {
			m := r.Match(get("GET", c.uri, "domain.org"))
			if m == nil || m.URICaptures == nil {
				t.Fatalf("%s: %+v", c.uri, m)
			}
			cp := m.URICaptures
			g1, _ := cp.Group(1)
			uid, _ := cp.Named("user_id")
			g2, ok2 := cp.Group(2)
			sc, _ := cp.Named("scope")
			g0, _ := cp.Group(0)
			if g1 != "1984" || uid != "1984" || g2 != c.scope || !ok2 || sc != c.scope || g0 != c.whole || cp.Len() != 2 {
				t.Errorf("%s: [1]=%q user_id=%q [2]=%q scope=%q [0]=%q len=%d", c.uri, g1, uid, g2, sc, g0, cp.Len())
			}
			if _, ok := cp.Named("stripped_uri"); ok {
				t.Errorf("stripped_uri capture")
			}
		}
	})
	t.Run("returns uri_captures normalized, fix #7913", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/users/(?P<fullname>[a-zA-Z\s\d%]+)/profile/?(?P<scope>[a-z]*)`}}))
		m := r.Match(get("GET", "/users/%6aohn%20doe/profile", "domain.org"))
		if m == nil || m.URICaptures == nil {
			t.Fatalf("%+v", m)
		}
		g1, _ := m.URICaptures.Group(1)
		fn, _ := m.URICaptures.Named("fullname")
		g0, _ := m.URICaptures.Group(0)
		if g1 != "john doe" || fn != "john doe" || g0 != "/users/john doe/profile" {
			t.Errorf("[1]=%q fullname=%q [0]=%q", g1, fn, g0)
		}
	})
	t.Run("returns no uri_captures from a [uri prefix] match", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/hello"}, StripPath: true}))
		m := r.Match(get("GET", "/hello/world", "domain.org"))
		if m == nil || m.UpstreamURI != "/world" || m.URICaptures != nil {
			t.Errorf("%+v", m)
		}
	})
	// atc.lua has_capture: uri_captures only when a group besides the whole
	// match took part
	t.Run("no uri_captures when no group took part", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/(users/)?1984`}}))
		if m := r.Match(get("GET", "/1984", "domain.org")); m == nil || m.URICaptures != nil {
			t.Errorf("%+v", m)
		}
		if m := r.Match(get("GET", "/users/1984", "domain.org")); m == nil || m.URICaptures == nil {
			t.Errorf("%+v", m)
		}
	})
	t.Run("returns no uri_captures from a [uri regex] match without groups", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/users/\d+/profile`}}))
		if m := r.Match(get("GET", "/users/1984/profile", "domain.org")); m == nil || m.URICaptures != nil {
			t.Errorf("%+v", m)
		}
	})
}

// describe("stripped paths #strip")
func TestStripPath(t *testing.T) {
	r := mustNew(t, withSvc(
		Route{ID: id(1), Paths: []string{"/my-route", "/xx-route"}, StripPath: true},
		Route{ID: id(2), Methods: []string{"POST"}, Paths: []string{"/my-route", "/xx-route"}, StripPath: false},
	))
	for _, c := range []struct {
		name, method, uri string
		want              int
		prefix, upstream  string
	}{
		{"strips the specified paths from the given uri if matching", "GET", "/my-route/hello/world", 1, "/my-route", "/hello/world"},
		{"strips if matched URI is plain (not a prefix)", "GET", "/my-route", 1, "/my-route", "/"},
		{"doesn't strip if 'strip_uri' is not enabled", "POST", "/my-route/hello/world", 2, "", "/my-route/hello/world"},
		{"can proxy an route with stripped URI with different URIs in a row", "GET", "/xx-route", 1, "/xx-route", "/"},
	} {
		m := r.Match(get(c.method, c.uri, "domain.org"))
		if m == nil || m.Route.ID != id(c.want) || m.Prefix != c.prefix || m.UpstreamURI != c.upstream {
			t.Errorf("%s: %+v", c.name, m)
		}
	}
	t.Run("does not strips root / URI", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/"}, StripPath: true}))
		m := r.Match(get("POST", "/my-route/hello/world", "domain.org"))
		if m == nil || m.Prefix != "/" || m.UpstreamURI != "/my-route/hello/world" {
			t.Errorf("%+v", m)
		}
	})
	t.Run("strips url encoded paths", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/endel%2Fst"}, StripPath: true}))
		m := r.Match(get("GET", "/endel%2Fst", "domain.org"))
		if m == nil || m.Prefix != "/endel%2Fst" || m.UpstreamURI != "/" {
			t.Errorf("%+v", m)
		}
	})
	// utils.lua sanitize_uri_postfix: a remainder "." or ".." is dropped
	// ("/route.." is not a dot segment, so normalisation keeps it)
	t.Run("sanitizes a dot remainder", func(t *testing.T) {
		svcs := map[string]*Service{"s": {ID: "s", Protocol: "http", Host: "u", Path: "/service"}}
		r, err := New([]Route{{ID: id(1), Paths: []string{"/route"}, StripPath: true, ServiceID: "s"}}, svcs)
		if err != nil {
			t.Fatal(err)
		}
		for uri, want := range map[string]string{"/route..": "/service", "/route.": "/service", "/route../x": "/service/x"} {
			if m := r.Match(get("GET", uri, "h")); m == nil || m.UpstreamURI != want {
				t.Errorf("%s: %+v, want %s", uri, m, want)
			}
		}
	})
	t.Run("strips a [uri regex]", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/users/\d+/profile`}, StripPath: true}))
		m := r.Match(get("GET", "/users/123/profile/hello/world", "domain.org"))
		if m == nil || m.Prefix != "/users/123/profile" || m.UpstreamURI != "/hello/world" {
			t.Errorf("%+v", m)
		}
	})
	t.Run("strips a [uri regex] with a capture group", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/users/(\d+)/profile`}, StripPath: true}))
		m := r.Match(get("GET", "/users/123/profile/hello/world", "domain.org"))
		if m == nil || m.Prefix != "/users/123/profile" || m.UpstreamURI != "/hello/world" {
			t.Fatalf("%+v", m)
		}
		if g, _ := m.URICaptures.Group(1); g != "123" {
			t.Errorf("capture 1 = %q", g)
		}
	})
}

// describe("preserve Host header")
func TestPreserveHost(t *testing.T) {
	r := mustNew(t, withSvc(
		Route{ID: id(1), PreserveHost: true, Hosts: []string{"preserve.com"}},
		Route{ID: id(2), PreserveHost: false, Hosts: []string{"discard.com"}},
		Route{ID: id(3), PreserveHost: true, Paths: []string{"/nohost"}},
	))
	for _, c := range []struct {
		name, uri, host string
		want            int
		upstreamHost    string
	}{
		{"uses the request's Host header", "/", "preserve.com", 1, "preserve.com"},
		{"uses the request's Host header incl. port", "/", "preserve.com:123", 1, "preserve.com:123"},
		{"uses the request's Host header if an route with no host was cached (1)", "/nohost", "domain1.com", 3, "domain1.com"},
		{"uses the request's Host header if an route with no host was cached (2)", "/nohost", "domain2.com", 3, "domain2.com"},
		{"preserve_host false: the service host", "/", "discard.com", 2, "example.org"},
	} {
		m := r.Match(get("GET", c.uri, c.host))
		if m == nil || m.Route.ID != id(c.want) || m.UpstreamHost != c.upstreamHost || m.UpstreamHostname != "example.org" {
			t.Errorf("%s: %+v", c.name, m)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	// it("gracefully handles invalid utf-8 sequences"): 404
	r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/hello"}}, Route{ID: id(2)}))
	if m := r.Match(get("GET", "\xfc\x80\x80\x80\x80\xaf", "example.org")); m != nil {
		t.Errorf("matched %s", m.Route.ID)
	}
	// decoded by the normalisation: %FF is not UTF-8 either
	if m := r.Match(get("GET", "/hello%FF", "example.org")); m != nil {
		t.Errorf("matched %s", m.Route.ID)
	}
}

// Kong's normalisation before routing (uri.lua normalize, merge_slashes).
func TestNormalizedMatching(t *testing.T) {
	r := mustNew(t, withSvc(
		Route{ID: id(1), Paths: []string{"/plain/a.b.c"}},
		Route{ID: id(2), Paths: []string{`~/reg%65x/\d+`}},
		Route{ID: id(3), Paths: []string{"/admin"}, StripPath: true},
	))
	runCases(t, r, []routeCase{
		{"plain", get("GET", "/plain/a.b.c", "e"), 1},
		{"unreserved decoded", get("GET", "/plain/a%2Eb%2ec", "e"), 1},
		{"dot segments", get("GET", "/x/../plain/./a.b.c", "e"), 1},
		{"merged slashes", get("GET", "//plain///a.b.c", "e"), 1},
		// a regex is not normalised (since Kong 3.0): it matches the encoded
		// text only if the request keeps it encoded, which normalisation
		// prevents for unreserved characters
		{"regex not normalised", get("GET", "/regex/123", "e"), 0},
		{"regex sees decoded path", get("GET", "/reg%65x/123", "e"), 0},
		{"admin via dot-dot", get("GET", "/foo/../admin/x", "e"), 3},
	})
}

// Sources and destinations (transform.lua gen_for_nets; fields.lua: the
// destination port is the Host header's port when it has one).
func TestSourcesDestinations(t *testing.T) {
	r := mustNew(t, withSvc(
		Route{ID: id(1), Sources: []CIDRPort{{IP: "10.0.0.0/8"}}, Paths: []string{"/n"}},
		Route{ID: id(2), Destinations: []CIDRPort{{IP: "2.2.2.2", Port: 8000}}, Paths: []string{"/n"}},
		Route{ID: id(3), Sources: []CIDRPort{{Port: 5555}}, Paths: []string{"/n"}},
	))
	q := func(src string, srcPort int, dst string, dstPort int, host string) *Request {
		rq := get("GET", "/n", host)
		rq.SrcIP, rq.SrcPort = netip.MustParseAddr(src), srcPort
		rq.DstIP, rq.DstPort = netip.MustParseAddr(dst), dstPort
		return rq
	}
	runCases(t, r, []routeCase{
		{"source cidr", q("10.1.2.3", 1, "9.9.9.9", 80, "h"), 1},
		{"destination ip+port", q("1.1.1.1", 1, "2.2.2.2", 8000, "h"), 2},
		{"destination port from Host header", q("1.1.1.1", 1, "2.2.2.2", 80, "h:8000"), 2},
		{"destination wrong port", q("1.1.1.1", 1, "2.2.2.2", 8001, "h"), 0},
		{"source port", q("1.1.1.1", 5555, "9.9.9.9", 80, "h"), 3},
		{"ipv4-mapped ipv6 source", q("::ffff:10.0.0.1", 1, "9.9.9.9", 80, "h"), 1},
	})
	// it("exec() should use var.server_port if host has no port")
	r = mustNew(t, withSvc(Route{ID: id(1), Hosts: []string{"www.example.com:8000"}}))
	rq := get("GET", "/foo", "www.example.com")
	if r.Match(rq) != nil {
		t.Errorf("matched on port 80")
	}
	rq.DstPort = 8000
	if r.Match(rq) == nil {
		t.Errorf("server port 8000 did not match")
	}
}

// handler.lua: Routes are filtered by subsystem; disabled Services drop
// their Routes; protocols are checked after routing.
func TestProtocolsAndServices(t *testing.T) {
	off := false
	svcs := map[string]*Service{
		"on":  {ID: "on", Protocol: "http", Host: "a"},
		"off": {ID: "off", Protocol: "http", Host: "b", Enabled: &off},
	}
	r, err := New([]Route{
		{ID: id(1), Paths: []string{"/tcp"}, Protocols: []string{"tcp"}, ServiceID: "on"},
		{ID: id(2), Paths: []string{"/off"}, ServiceID: "off"},
		{ID: id(3), Paths: []string{"/secure"}, Protocols: []string{"https"}, ServiceID: "on", HTTPSRedirectStatusCode: 301},
		{ID: id(4), Paths: []string{"/both"}, Protocols: []string{"http", "https"}, ServiceID: "on"},
		{ID: id(5), Paths: []string{"/missing"}, ServiceID: "gone"},
		{ID: id(6), Paths: []string{"/grpc"}, Protocols: []string{"grpcs"}, ServiceID: "on"},
	}, svcs)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, r, []routeCase{
		{"stream route left out", get("GET", "/tcp", "h"), 0},
		{"disabled service left out", get("GET", "/off", "h"), 0},
		{"https-only route still matches over http", get("GET", "/secure", "h"), 3},
		{"grpcs route matches (the proxy answers 415/426)", get("GET", "/grpc", "h"), 6},
	})
	if m := r.Match(get("GET", "/secure", "h")); m.HTTPSRedirectStatus("http") != 301 || m.HTTPSRedirectStatus("https") != 0 {
		t.Errorf("https redirect: %d %d", m.HTTPSRedirectStatus("http"), m.HTTPSRedirectStatus("https"))
	}
	if m := r.Match(get("GET", "/both", "h")); m.HTTPSRedirectStatus("http") != 0 {
		t.Errorf("http+https route redirects")
	}
	if m := r.Match(get("GET", "/missing", "h")); m == nil || m.Service != nil {
		t.Errorf("route with unknown service: %+v", m)
	}
}
