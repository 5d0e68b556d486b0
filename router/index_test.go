package router

import (
	"fmt"
	"math/rand"
	"testing"
)

// matchLinear is the router without its index: every matcher in order, as
// the ATC router scans them.
func (r *Router) matchLinear(req *Request) *Match {
	var out Match
	st := reqState{req: req, isHTTPS: req.Scheme == "https"}
	st.path = NormalizePath(StripQuery(req.URI))
	if req.Host != "" {
		h, port, hasPort := splitHostPort(req.Host)
		st.host, st.hasHost = h, true
		st.dstPort = req.DstPort
		if hasPort {
			st.dstPort = port
		}
	} else {
		st.dstPort = req.DstPort
	}
	for _, m := range r.matchers {
		if r.try(m, &st, &out) {
			return &out
		}
	}
	return nil
}

// The candidate index must never change which Route wins: random tables of
// overlapping hosts (exact, wildcard, with ports), prefixes and regexes,
// random requests, indexed and linear answers compared.
func TestIndexEqualsLinearScan(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	hostsPool := []string{"a.test", "b.test", "*.test", "a.*", "*.b.test", "a.test:8000", "*.test:80", "x.y.z", "*.z", "x.*"}
	pathsPool := []string{"/", "/a", "/a/b", "/ab", "/b", `~/a/\d+`, `~/a/(?<x>\w+)$`, `~/(?!b)\w+`, `~/b/(x)\1`, `~/a|/b`, "/a/b/c"}
	pick := func(pool []string) []string {
		var out []string
		for i := rnd.Intn(3); i > 0; i-- {
			out = append(out, pool[rnd.Intn(len(pool))])
		}
		return out
	}
	for iter := 0; iter < 60; iter++ {
		var routes []Route
		for i := 0; i < 25; i++ {
			r := Route{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", rnd.Intn(1000)*100+i), Hosts: pick(hostsPool),
				Paths: pick(pathsPool), RegexPriority: rnd.Intn(3) - 1, ServiceID: "svc"}
			if rnd.Intn(4) == 0 {
				r.Methods = []string{"GET"}
			}
			routes = append(routes, r)
		}
		r := mustNew(t, routes)
		for q := 0; q < 200; q++ {
			host := []string{"a.test", "b.test", "c.b.test", "a.org", "x.y.z", "q.z", "a.test:8000", "a.test:80", "", "x.q"}[rnd.Intn(10)]
			uri := []string{"/", "/a", "/a/1", "/a/b", "/a/b/c", "/ab", "/b", "/b/xx", "/c", "/a/zz", "/b/xx/"}[rnd.Intn(11)]
			method := []string{"GET", "POST"}[rnd.Intn(2)]
			req := &Request{Method: method, URI: uri, Host: host, Scheme: "http", DstPort: 80}
			a, b := r.Match(req), r.matchLinear(req)
			switch {
			case (a == nil) != (b == nil):
				t.Fatalf("iter %d %s %s%s: indexed %v, linear %v", iter, method, host, uri, a != nil, b != nil)
			case a != nil && (a.Route.ID != b.Route.ID || a.MatchedPath != b.MatchedPath):
				t.Fatalf("iter %d %s %s%s: indexed %s %s, linear %s %s", iter, method, host, uri,
					a.Route.ID, a.MatchedPath, b.Route.ID, b.MatchedPath)
			}
		}
	}
}

func TestLiteralPrefixes(t *testing.T) {
	for src, want := range map[string]string{
		`^/users/\d+`:   "/users/",
		`^/a|/b`:        "",
		`^/ab?`:         "/a",
		`^(?i)/abc`:     "",
		`^/x(?!y)`:      "/x",
		`^/x(?<=x)y`:    "/x",
		`^/é/x(\w)\1`:   "/",
		`^/v1/(\w+)/\1`: "/v1/",
		`^/a+(?=b)`:     "/",
		`^/a\.b(?=c)`:   "/a",
	} {
		p, err := compilePattern(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if p.prefix != want {
			t.Errorf("%s: prefix %q, want %q", src, p.prefix, want)
		}
	}
}
