package router

import (
	"net/netip"
	"testing"
)

// FuzzMatch: no input panics Match, and a match always carries a Route and an
// upstream URI starting with '/'.
func FuzzMatch(f *testing.F) {
	r, err := New(withSvc(
		Route{ID: id(1), Paths: []string{"/api", "/xx"}, StripPath: true, Hosts: []string{"*.example.com"}},
		Route{ID: id(2), Paths: []string{`~/users/(?<id>\d+)/?(.*)`}, StripPath: true},
		Route{ID: id(3), Paths: []string{`~/(?!admin)(\w+)/\1`}},
		Route{ID: id(4), Headers: map[string][]string{"x-v": {"~*^v[0-9]+$", "beta"}}, Methods: []string{"GET"}},
		Route{ID: id(5), Hosts: []string{"a.test:8000", "b.*"}, SNIs: []string{"*.sni.test"}},
		Route{ID: id(6), Paths: []string{"/"}, Sources: []CIDRPort{{IP: "10.0.0.0/8", Port: 1}}},
		Route{ID: id(7), Paths: []string{"/", "/p/q"}, PathHandling: "v1"},
	), map[string]*Service{"svc": {ID: "svc", Protocol: "http", Host: "u", Path: "/s/"}}, WithPathHandlingV1())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"/api/x", "/users/1/a", "/x/x", "/%2e%2e/", "//a/../..", "/%FF", "?", "", "/a?b", "/\x00"} {
		f.Add("GET", s, "a.example.com:80", "v1", "https", "a.sni.test")
	}
	f.Fuzz(func(t *testing.T, method, uri, host, hv, scheme, sni string) {
		req := &Request{Method: method, URI: uri, Host: host, Scheme: scheme, SNI: sni,
			Headers: MapHeaders{"x-v": {hv}}, SrcIP: netip.MustParseAddr("10.1.1.1"), SrcPort: 1, DstPort: 8000}
		m := r.Match(req)
		if m == nil {
			return
		}
		if m.Route == nil {
			t.Fatal("match without route")
		}
		if m.UpstreamURI == "" || m.UpstreamURI[0] != '/' {
			// Kong would send such a URI too (e.g. a request path not
			// starting with '/'), but it must not be produced from one that does
			if len(m.Path) > 0 && m.Path[0] == '/' {
				t.Fatalf("upstream uri %q from path %q", m.UpstreamURI, m.Path)
			}
		}
		_ = EscapeURI(m.UpstreamURI)
		if c := m.URICaptures; c != nil {
			for i := 0; i <= c.Len(); i++ {
				c.Group(i)
			}
		}
	})
}
