package router

import (
	"fmt"
	"testing"
)

// The path handling table of Kong's spec/fixtures/router_path_handling_tests.lua
// (Kong/kong at 22246ef2), row for row: service path, route path ("" = the
// route matches on its host only), strip_path, path_handling, request path,
// expected upstream_uri. spec/01-unit/08-router_spec.lua "#slash handling"
// runs every "v0" row against the traditional_compatible router twice: with
// the path as a prefix, and turned into the regex "~/[0]?" + path[1:]. The
// "v1" rows are the traditional router's, checked here under
// WithPathHandlingV1.

type stripCase uint8

const (
	stripOff stripCase = iota
	stripOn
	stripBoth
)

type phCase uint8

const (
	phV0 phCase = iota
	phV1
	phBoth
)

type pathHandlingRow struct {
	line                   int
	servicePath, routePath string
	strip                  stripCase
	handling               phCase
	requestPath, expected  string
}

var pathHandlingRows = []pathHandlingRow{
	{1, "/", "/", stripBoth, phBoth, "/", "/"},
	{2, "/", "/", stripBoth, phBoth, "/route", "/route"},
	{3, "/", "/", stripBoth, phBoth, "/route/", "/route/"},
	{4, "/", "/", stripBoth, phBoth, "/routereq", "/routereq"},
	{5, "/", "/", stripBoth, phBoth, "/route/req", "/route/req"},
	{6, "/", "/route", stripOff, phBoth, "/route", "/route"},
	{7, "/", "/route", stripOff, phBoth, "/route/", "/route/"},
	{8, "/", "/route", stripOff, phBoth, "/routereq", "/routereq"},
	{9, "/", "/route", stripOn, phBoth, "/route", "/"},
	{10, "/", "/route", stripOn, phBoth, "/route/", "/"},
	{11, "/", "/route", stripOn, phBoth, "/routereq", "/req"},
	{12, "/", "/route/", stripOff, phBoth, "/route/", "/route/"},
	{13, "/", "/route/", stripOff, phBoth, "/route/req", "/route/req"},
	{14, "/", "/route/", stripOn, phBoth, "/route/", "/"},
	{15, "/", "/route/", stripOn, phBoth, "/route/req", "/req"},
	{16, "/srv", "/rou", stripOff, phV0, "/roureq", "/srv/roureq"},
	{17, "/srv", "/rou", stripOff, phV1, "/roureq", "/srvroureq"},
	{18, "/srv", "/rou", stripOn, phV0, "/roureq", "/srv/req"},
	{19, "/srv", "/rou", stripOn, phV1, "/roureq", "/srvreq"},
	{20, "/srv/", "/rou", stripOff, phBoth, "/rou", "/srv/rou"},
	{21, "/srv/", "/rou", stripOn, phV0, "/rou", "/srv"},
	{22, "/srv/", "/rou", stripOn, phV1, "/rou", "/srv/"},
	{23, "/service", "/", stripBoth, phBoth, "/", "/service"},
	{24, "/service", "/", stripBoth, phV0, "/route", "/service/route"},
	{25, "/service", "/", stripBoth, phV1, "/route", "/serviceroute"},
	{26, "/service", "/", stripBoth, phV0, "/route/", "/service/route/"},
	{27, "/service", "/", stripBoth, phV1, "/route/", "/serviceroute/"},
	{28, "/service", "/", stripBoth, phV0, "/routereq", "/service/routereq"},
	{29, "/service", "/", stripBoth, phV1, "/routereq", "/serviceroutereq"},
	{30, "/service", "/", stripBoth, phV0, "/route/req", "/service/route/req"},
	{31, "/service", "/", stripBoth, phV1, "/route/req", "/serviceroute/req"},
	{32, "/service", "/route", stripOff, phV0, "/route", "/service/route"},
	{33, "/service", "/route", stripOff, phV1, "/route", "/serviceroute"},
	{34, "/service", "/route", stripOff, phV0, "/route/", "/service/route/"},
	{35, "/service", "/route", stripOff, phV1, "/route/", "/serviceroute/"},
	{36, "/service", "/route", stripOff, phV0, "/routereq", "/service/routereq"},
	{37, "/service", "/route", stripOff, phV1, "/routereq", "/serviceroutereq"},
	{38, "/service", "/route", stripOn, phBoth, "/route", "/service"},
	{39, "/service", "/route", stripOn, phBoth, "/route/", "/service/"},
	{40, "/service", "/route", stripOn, phV0, "/routereq", "/service/req"},
	{41, "/service", "/route", stripOn, phV1, "/routereq", "/servicereq"},
	{42, "/service", "/route/", stripOff, phV0, "/route/", "/service/route/"},
	{43, "/service", "/route/", stripOff, phV1, "/route/", "/serviceroute/"},
	{44, "/service", "/route/", stripOff, phV0, "/route/req", "/service/route/req"},
	{45, "/service", "/route/", stripOff, phV1, "/route/req", "/serviceroute/req"},
	{46, "/service", "/route/", stripOn, phV0, "/route/", "/service/"},
	{47, "/service", "/route/", stripOn, phV1, "/route/", "/service"},
	{48, "/service", "/route/", stripOn, phV0, "/route/req", "/service/req"},
	{49, "/service", "/route/", stripOn, phV1, "/route/req", "/servicereq"},
	{50, "/service/", "/", stripBoth, phV0, "/route/", "/service/route/"},
	{51, "/service/", "/", stripBoth, phV1, "/route/", "/service/route/"},
	{52, "/service/", "/", stripBoth, phBoth, "/", "/service/"},
	{53, "/service/", "/", stripBoth, phBoth, "/route", "/service/route"},
	{54, "/service/", "/", stripBoth, phBoth, "/routereq", "/service/routereq"},
	{55, "/service/", "/", stripBoth, phBoth, "/route/req", "/service/route/req"},
	{56, "/service/", "/route", stripOff, phBoth, "/route", "/service/route"},
	{57, "/service/", "/route", stripOff, phBoth, "/route/", "/service/route/"},
	{58, "/service/", "/route", stripOff, phBoth, "/routereq", "/service/routereq"},
	{59, "/service/", "/route", stripOn, phV0, "/route", "/service"},
	{60, "/service/", "/route", stripOn, phV1, "/route", "/service/"},
	{61, "/service/", "/route", stripOn, phBoth, "/route/", "/service/"},
	{62, "/service/", "/route", stripOn, phBoth, "/routereq", "/service/req"},
	{63, "/service/", "/route/", stripOff, phBoth, "/route/", "/service/route/"},
	{64, "/service/", "/route/", stripOff, phBoth, "/route/req", "/service/route/req"},
	{65, "/service/", "/route/", stripOn, phBoth, "/route/", "/service/"},
	{66, "/service/", "/route/", stripOn, phBoth, "/route/req", "/service/req"},
	{67, "/", "", stripBoth, phBoth, "/", "/"},
	{68, "/", "", stripBoth, phBoth, "/route", "/route"},
	{69, "/", "", stripBoth, phBoth, "/route/", "/route/"},
	{70, "/service", "", stripBoth, phBoth, "/", "/service"},
	{71, "/service", "", stripBoth, phV0, "/route", "/service/route"},
	{72, "/service", "", stripBoth, phV1, "/route", "/serviceroute"},
	{73, "/service", "", stripBoth, phV0, "/route/", "/service/route/"},
	{74, "/service", "", stripBoth, phV1, "/route/", "/serviceroute/"},
	{75, "/service/", "", stripBoth, phBoth, "/", "/service/"},
	{76, "/service/", "", stripBoth, phBoth, "/route", "/service/route"},
	{77, "/service/", "", stripBoth, phBoth, "/route/", "/service/route/"},
	{78, "/service", "/route", stripOn, phV0, "/route./req", "/service/req"},
	{79, "/service", "/route", stripOn, phV1, "/route./req", "/servicereq"},
	{80, "/service/", "/route", stripOn, phBoth, "/route./req", "/service/req"},
	{81, "/service", "/route", stripOn, phV0, "/route%2E/req", "/service/req"},
	{82, "/service", "/route", stripOn, phV1, "/route%2E/req", "/servicereq"},
	{83, "/service/", "/route", stripOn, phBoth, "/route%2E/req", "/service/req"},
	{84, "/service", "/route", stripOn, phV0, "/route%2e/req", "/service/req"},
	{85, "/service", "/route", stripOn, phV1, "/route%2e/req", "/servicereq"},
	{86, "/service/", "/route", stripOn, phBoth, "/route%2e/req", "/service/req"},
	{87, "/service", "/route", stripOn, phV0, "/route../req", "/service/req"},
	{88, "/service", "/route", stripOn, phV1, "/route../req", "/servicereq"},
	{89, "/service/", "/route", stripOn, phBoth, "/route../req", "/service/req"},
	{90, "/service", "/route", stripOn, phV0, "/route%2E%2E/req", "/service/req"},
	{91, "/service", "/route", stripOn, phV1, "/route%2E%2E/req", "/servicereq"},
	{92, "/service/", "/route", stripOn, phBoth, "/route%2E%2E/req", "/service/req"},
	{93, "/service", "/route", stripOn, phV0, "/route%2e%2E/req", "/service/req"},
	{94, "/service", "/route", stripOn, phV1, "/route%2e%2E/req", "/servicereq"},
	{95, "/service/", "/route", stripOn, phBoth, "/route%2e%2E/req", "/service/req"},
	{96, "/service", "/route", stripOff, phV0, "/route./req", "/service/route./req"},
	{97, "/service", "/route", stripOff, phV1, "/route./req", "/serviceroute./req"},
	{98, "/service/", "/route", stripOff, phBoth, "/route./req", "/service/route./req"},
	{99, "/service", "/route", stripOff, phV0, "/route%2E/req", "/service/route./req"},
	{100, "/service", "/route", stripOff, phV1, "/route%2E/req", "/serviceroute./req"},
	{101, "/service/", "/route", stripOff, phBoth, "/route%2E/req", "/service/route./req"},
	{102, "/service", "/route", stripOff, phV0, "/route%2e/req", "/service/route./req"},
	{103, "/service", "/route", stripOff, phV1, "/route%2e/req", "/serviceroute./req"},
	{104, "/service/", "/route", stripOff, phBoth, "/route%2e/req", "/service/route./req"},
	{105, "/service", "/route", stripOff, phV0, "/route../req", "/service/route../req"},
	{106, "/service", "/route", stripOff, phV1, "/route../req", "/serviceroute../req"},
	{107, "/service/", "/route", stripOff, phBoth, "/route../req", "/service/route../req"},
	{108, "/service", "/route", stripOff, phV0, "/route%2E%2E/req", "/service/route../req"},
	{109, "/service", "/route", stripOff, phV1, "/route%2E%2E/req", "/serviceroute../req"},
	{110, "/service/", "/route", stripOff, phBoth, "/route%2E%2E/req", "/service/route../req"},
	{111, "/service", "/route", stripOff, phV0, "/route%2e%2E/req", "/service/route../req"},
	{112, "/service", "/route", stripOff, phV1, "/route%2e%2E/req", "/serviceroute../req"},
	{113, "/service/", "/route", stripOff, phBoth, "/route%2e%2E/req", "/service/route../req"},
}

type pathHandlingCase struct {
	row      pathHandlingRow
	strip    bool
	handling string
}

// expand is the fixture's line:expand(): one case per strip_path and
// path_handling value.
func (r pathHandlingRow) expand() []pathHandlingCase {
	var strips []bool
	switch r.strip {
	case stripOff:
		strips = []bool{false}
	case stripOn:
		strips = []bool{true}
	default:
		strips = []bool{false, true}
	}
	var hs []string
	switch r.handling {
	case phV0:
		hs = []string{"v0"}
	case phV1:
		hs = []string{"v1"}
	default:
		hs = []string{"v0", "v1"}
	}
	var out []pathHandlingCase
	for _, s := range strips {
		for _, h := range hs {
			out = append(out, pathHandlingCase{r, s, h})
		}
	}
	return out
}

func TestPathHandlingFixture(t *testing.T) {
	for i, row := range pathHandlingRows {
		for j, c := range row.expand() {
			for _, regex := range []bool{false, true} {
				if regex && row.routePath == "" {
					continue // the spec skips host-only rows for the regex variant
				}
				name := fmt.Sprintf("%d-%d/%s/strip=%v/%s%s", i+1, j+1, map[bool]string{false: "plain", true: "regex"}[regex],
					c.strip, c.handling, map[bool]string{false: "", true: "/traditional"}[c.handling == "v1"])
				t.Run(name, func(t *testing.T) {
					host := fmt.Sprintf("localbin-%d-%d.com", i+1, j+1)
					rt := Route{ID: fmt.Sprintf("e8fb37f1-102d-461e-9c51-6608a6%03d%03d", i+1, j+1),
						StripPath: c.strip, PathHandling: c.handling, Hosts: []string{host}, ServiceID: "s"}
					if row.routePath != "" {
						p := row.routePath
						if regex {
							p = "~/[0]?" + p[1:]
						}
						rt.Paths = []string{p}
					}
					svc := map[string]*Service{"s": {ID: "s", Protocol: "http", Host: "example.org", Path: row.servicePath}}
					var opts []Option
					if c.handling == "v1" {
						opts = append(opts, WithPathHandlingV1())
					}
					r, err := New([]Route{rt}, svc, opts...)
					if err != nil {
						t.Fatal(err)
					}
					m := r.Match(&Request{Method: "GET", URI: row.requestPath, Host: host})
					if m == nil {
						t.Fatalf("no match for %s", row.requestPath)
					}
					if m.UpstreamURI != row.expected {
						t.Errorf("fixture line %d: service %q route %q strip=%v %s request %q: upstream_uri %q, want %q",
							row.line, row.servicePath, rt.Paths, c.strip, c.handling, row.requestPath, m.UpstreamURI, row.expected)
					}
				})
			}
		}
	}
}

// Kong's traditional_compatible router ignores path_handling "v1": such a
// Route is joined as "v0" (atc.lua set_upstream_uri calls
// get_upstream_uri_v0 only; routes.lua warns v1 "will not work under
// 'expressions' or 'traditional_compatible'"). Fixture line 17 and its v0
// twin, line 16.
func TestPathHandlingV1IgnoredByDefault(t *testing.T) {
	rt := Route{ID: "e8fb37f1-102d-461e-9c51-6608a6bb8101", Paths: []string{"/rou"}, PathHandling: "v1", StripPath: true, ServiceID: "s"}
	svc := map[string]*Service{"s": {ID: "s", Protocol: "http", Host: "example.org", Path: "/srv"}}
	r, err := New([]Route{rt}, svc)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Match(&Request{Method: "GET", URI: "/roureq", Host: "x"})
	if m == nil || m.UpstreamURI != "/srv/req" {
		t.Fatalf("got %+v, want upstream_uri /srv/req (v0, fixture line 18)", m)
	}
}
