package router

import (
	"fmt"
	"testing"
)

// benchRoutes is a mixed table of n routes: 40% exact host + prefix path,
// 30% prefix path only, 20% regex path (with a named capture), 10% wildcard
// host; every 50th regex route is PCRE-only (lookahead, so regexp2).
func benchRoutes(n int) []Route {
	routes := make([]Route, 0, n)
	for i := 0; i < n; i++ {
		r := Route{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), StripPath: true, ServiceID: "svc"}
		switch i % 10 {
		case 0, 1, 2, 3:
			r.Hosts = []string{fmt.Sprintf("svc%d.example.com", i)}
			r.Paths = []string{fmt.Sprintf("/api/v%d", i)}
		case 4, 5, 6:
			r.Paths = []string{fmt.Sprintf("/p%d/items", i)}
			r.Methods = []string{"GET", "POST"}
		case 7, 8:
			if i%50 == 7 {
				r.Paths = []string{fmt.Sprintf(`~/r%d/(?!admin)(?<id>\w+)$`, i)}
			} else {
				r.Paths = []string{fmt.Sprintf(`~/r%d/(?<id>\d+)$`, i)}
			}
		case 9:
			r.Hosts = []string{fmt.Sprintf("*.w%d.example.net", i)}
		}
		routes = append(routes, r)
	}
	return routes
}

func BenchmarkMatch(b *testing.B) {
	svcs := map[string]*Service{"svc": {ID: "svc", Protocol: "http", Host: "upstream", Path: "/base"}}
	for _, n := range []int{10, 1000, 10000} {
		r, err := New(benchRoutes(n), svcs)
		if err != nil {
			b.Fatal(err)
		}
		last := func(k int) int { // the last route index with i%10 == k
			return (n-1)/10*10 + k - map[bool]int{true: 10, false: 0}[(n-1)/10*10+k >= n]
		}
		reqs := map[string]*Request{
			"host+prefix": get("GET", fmt.Sprintf("/api/v%d/users", last(0)), fmt.Sprintf("svc%d.example.com", last(0))),
			"prefix":      get("GET", fmt.Sprintf("/p%d/items/42", last(4)), "any.test"),
			"regex":       get("GET", fmt.Sprintf("/r%d/12345", last(7)), "any.test"),
			"wildcard":    get("GET", "/", fmt.Sprintf("a.w%d.example.net", last(9))),
			"miss":        get("GET", "/nothing/here", "nobody.test"),
		}
		for _, kind := range []string{"host+prefix", "prefix", "regex", "wildcard", "miss"} {
			req := reqs[kind]
			want := kind != "miss"
			b.Run(fmt.Sprintf("routes=%d/%s", n, kind), func(b *testing.B) {
				var m Match
				if r.MatchInto(req, &m) != want {
					b.Fatalf("%s: match = %v", kind, !want)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r.MatchInto(req, &m)
				}
			})
		}
	}
}

func BenchmarkNew(b *testing.B) {
	svcs := map[string]*Service{"svc": {ID: "svc", Protocol: "http", Host: "upstream"}}
	routes := benchRoutes(10000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := New(routes, svcs); err != nil {
			b.Fatal(err)
		}
	}
}
