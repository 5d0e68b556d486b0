package router

import "testing"

// Cases of Kong's spec/01-unit/08-router_spec.lua (Kong/kong 22246ef2) that
// run for flavor = "traditional_compatible"; each test names its describe/it.

// describe("select()"): the 15 routes of its lazy_setup.
func selectUseCase() []Route {
	return withSvc(
		Route{ID: id(1), Hosts: []string{"domain-1.org", "domain-2.org"}},
		Route{ID: id(2), Methods: []string{"TRACE"}},
		Route{ID: id(3), Paths: []string{"/my-route"}},
		Route{ID: id(4), Paths: []string{"/route-4"}, Hosts: []string{"domain-1.org", "domain-2.org"}},
		Route{ID: id(5), Hosts: []string{"domain-1.org", "domain-2.org"}, Methods: []string{"POST", "PUT", "PATCH"}},
		Route{ID: id(6), Methods: []string{"POST", "PUT", "PATCH"}, Paths: []string{"/route-6"}},
		Route{ID: id(7), Hosts: []string{"domain-with-uri-1.org", "domain-with-uri-2.org"},
			Methods: []string{"POST", "PUT", "PATCH"}, Paths: []string{"/my-route-uri"}},
		Route{ID: id(8), Paths: []string{"/serviceless"}, ServiceID: "none"},
		Route{ID: id(9), Headers: map[string][]string{"location": {"my-location-1", "my-location-2"}}},
		Route{ID: id(10), Headers: map[string][]string{"location": {"my-location-1"}, "version": {"v1", "v2"}}},
		Route{ID: id(11), Headers: map[string][]string{"location": {"my-location-1", "my-location-2"}}, Paths: []string{"/headers-uri"}},
		Route{ID: id(12), Hosts: []string{"domain-with-headers-1.org", "domain-with-headers-2.org"},
			Headers: map[string][]string{"location": {"my-location-1", "my-location-2"}},
			Methods: []string{"POST", "PUT", "PATCH"}, Paths: []string{"/headers-host-uri-method"}},
		Route{ID: id(13), Hosts: []string{"domain-1.org:321", "domain-2.org"}},
		Route{ID: id(14), Hosts: []string{"domain-3.org:321"}},
		Route{ID: id(15), Headers: map[string][]string{"user_agent": {`~*windows|linux|os\s+x\s*[\d\._]+|solaris|bsd`}}},
	)
}

func hdr(method, uri string, h map[string][]string) *Request {
	return withHeaders(get(method, uri, ""), h)
}

func TestSelect(t *testing.T) {
	r := mustNew(t, selectUseCase())
	runCases(t, r, []routeCase{
		{"[host]", get("GET", "/", "domain-1.org"), 1},
		{"[host] ignores default port", get("GET", "/", "domain-1.org:80"), 1},
		{"[host] matches specific port", get("GET", "/", "domain-1.org:321"), 13},
		{"[host] matches specific port on port-only route", get("GET", "/", "domain-3.org:321"), 14},
		{"[host] fails just because of port on port-only route", get("GET", "/", "domain-3.org:123"), 0},
		{"[uri]", get("GET", "/my-route", "domain.org"), 3},
		{"[uri + empty host]", get("GET", "/my-route-uri", ""), 3},
		{"[method]", get("TRACE", "/", "domain.org"), 2},
		{"[host + uri]", get("GET", "/route-4", "domain-1.org"), 4},
		{"[host + method]", get("POST", "/", "domain-1.org"), 5},
		{"[uri + method]", get("PUT", "/route-6", "domain.org"), 6},
		{"[host + uri + method]", get("PUT", "/my-route-uri", "domain-with-uri-2.org"), 7},
		{"single [headers] value 1", hdr("GET", "/", map[string][]string{"location": {"my-location-1"}}), 9},
		{"single [headers] value 2", hdr("GET", "/", map[string][]string{"location": {"my-location-2"}}), 9},
		{"single [headers] one of several request values", hdr("GET", "/", map[string][]string{"location": {"my-location-3", "my-location-2"}}), 9},
		{"single [headers] no value", hdr("GET", "/", map[string][]string{"location": {"my-location-3"}}), 0},
		{"single [headers] no value among several", hdr("GET", "/", map[string][]string{"location": {"my-location-3", "foo"}}), 0},
		{"single [headers] regex value", hdr("GET", "/", map[string][]string{"user-agent": {
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.116 Safari/537.36"}}), 15},
		{"multiple [headers] values v1", hdr("GET", "/", map[string][]string{"location": {"my-location-1"}, "version": {"v1"}}), 10},
		{"multiple [headers] values v2", hdr("GET", "/", map[string][]string{"location": {"my-location-1"}, "version": {"v2"}}), 10},
		{"multiple [headers] values among several", hdr("GET", "/", map[string][]string{"location": {"my-location-3", "my-location-1"}, "version": {"v2"}}), 10},
		{"multiple [headers] falls back to route 9", hdr("GET", "/", map[string][]string{"location": {"my-location-3", "my-location-2"}, "version": {"v2"}}), 9},
		{"[headers + uri]", hdr("GET", "/headers-uri", map[string][]string{"location": {"my-location-2"}}), 11},
		{"[host + headers + uri + method]", withHeaders(get("PUT", "/headers-host-uri-method", "domain-with-headers-1.org"),
			map[string][]string{"location": {"my-location-2"}}), 12},
		{"[serviceless]", get("GET", "/serviceless", ""), 8},
		{"[uri prefix] matches when given [uri] is in request URI prefix", get("GET", "/my-route/some/path", "domain.org"), 3},
		// describe("misses")
		{"misses: invalid [host]", get("GET", "/", "domain-3.org"), 0},
		{"misses: invalid host in [host + uri]", get("GET", "/route-4", "domain-3.org"), 0},
		{"misses: invalid method in [host + uri + method]", get("GET", "/some-uri", "domain-with-uri-2.org"), 0},
		{"misses: invalid uri in [host + uri + method]", get("PUT", "/some-uri-foo", "domain-with-uri-2.org"), 0},
		{"misses: [uri] is in URI but not in prefix", get("GET", "/some-other-prefix/my-route", "domain.org"), 0},
		{"misses: invalid [headers]", hdr("GET", "/", map[string][]string{"location": {"invalid-location"}}), 0},
		{"misses: invalid headers in [headers + uri]", hdr("GET", "/headers-uri", map[string][]string{"location": {"invalid-location"}}), 0},
	})
	t.Run("[serviceless] has no service", func(t *testing.T) {
		m := r.Match(get("GET", "/serviceless", ""))
		if m == nil || m.Service != nil || m.URICaptures != nil {
			t.Fatalf("got %+v, want route 8 without service", m)
		}
	})
}

// describe("[uri prefix]")
func TestURIPrefix(t *testing.T) {
	t.Run("does not supersede another route with a longer [uri]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"/my-route/hello"}},
			Route{ID: id(2), Paths: []string{"/my-route"}},
		))
		runCases(t, r, []routeCase{
			{"hello", get("GET", "/my-route/hello", "domain.org"), 1},
			{"hello/world", get("GET", "/my-route/hello/world", "domain.org"), 1},
			{"my-route", get("GET", "/my-route", "domain.org"), 2},
			{"world", get("GET", "/my-route/world", "domain.org"), 2},
		})
	})
	t.Run("does not supersede another route with a longer [uri] while [methods] are also defined", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Methods: []string{"POST", "PUT", "GET"}, Paths: []string{"/my-route"}},
			Route{ID: id(2), Methods: []string{"POST", "PUT", "GET"}, Paths: []string{"/my-route/hello"}},
		))
		runCases(t, r, []routeCase{
			{"hello", get("GET", "/my-route/hello", "domain.org"), 2},
			{"hello/world", get("GET", "/my-route/hello/world", "domain.org"), 2},
			{"my-route", get("GET", "/my-route", "domain.org"), 1},
			{"world", get("GET", "/my-route/world", "domain.org"), 1},
		})
	})
	t.Run("does not supersede another route with a longer [uri] while [hosts] are also defined", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"domain.org"}, Paths: []string{"/my-route"}},
			Route{ID: id(2), Hosts: []string{"domain.org"}, Paths: []string{"/my-route/hello"}},
		))
		runCases(t, r, []routeCase{
			{"hello", get("GET", "/my-route/hello", "domain.org"), 2},
			{"hello/world", get("GET", "/my-route/hello/world", "domain.org"), 2},
			{"my-route", get("GET", "/my-route", "domain.org"), 1},
			{"world", get("GET", "/my-route/world", "domain.org"), 1},
		})
	})
	t.Run("does not supersede another route with a longer [uri] when a better [uri] match exists for another [host]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"example.com"}, Paths: []string{"/my-route"}},
			Route{ID: id(2), Hosts: []string{"example.com"}, Paths: []string{"/my-route/hello"}},
			Route{ID: id(3), Hosts: []string{"example.net"}, Paths: []string{"/my-route/hello/world"}},
		))
		runCases(t, r, []routeCase{
			{"hello/world", get("GET", "/my-route/hello/world", "example.com"), 2},
			{"hello/world/and/goodnight", get("GET", "/my-route/hello/world/and/goodnight", "example.com"), 2},
		})
	})
	t.Run("only matches [uri prefix] as a prefix (anchored mode)", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"/something/my-route"}},
			Route{ID: id(2), Hosts: []string{"example.com"}, Paths: []string{"/my-route"}},
		))
		runCases(t, r, []routeCase{{"anchored", get("GET", "/something/my-route", "example.com"), 1}})
	})
}

// describe("[uri regex]")
func TestURIRegex(t *testing.T) {
	t.Run("matches with [uri regex]", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/users/\d+/profile`}}))
		runCases(t, r, []routeCase{{"match", get("GET", "/users/123/profile", "domain.org"), 1}})
		if m := r.Match(get("GET", "/users/123/profile", "domain.org")); m.URICaptures != nil {
			t.Errorf("uri_captures = %+v, want nil (no groups)", m.URICaptures)
		}
	})
	t.Run("matches the right route when several ones have a [uri regex]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{`~/route/persons/\d{3}`}},
			Route{ID: id(2), Paths: []string{`~/route/persons/\d{3}/following`}},
			Route{ID: id(3), Paths: []string{`~/route/persons/\d{3}/[a-z]+`}},
		))
		runCases(t, r, []routeCase{{"456", get("GET", "/route/persons/456", "domain.org"), 1}})
	})
	t.Run("matches a [uri regex] even if a [prefix uri] got a match", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{`/route/persons`}},
			Route{ID: id(2), Paths: []string{`~/route/persons/\d+/profile`}},
		))
		runCases(t, r, []routeCase{{"regex", get("GET", "/route/persons/123/profile", "domain.org"), 2}})
	})
	t.Run("matches a [uri regex] even if a [uri] got an exact match", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"/route/fixture"}},
			Route{ID: id(2), Paths: []string{"~/route/(fixture)"}},
		))
		runCases(t, r, []routeCase{{"regex", get("GET", "/route/fixture", "domain.org"), 2}})
	})
	t.Run("matches a [uri regex + host] even if a [prefix uri] got a match", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"route.com"}, Paths: []string{"/pat"}},
			Route{ID: id(2), Hosts: []string{"route.com"}, Paths: []string{"/path"}, Methods: []string{"POST"}},
			Route{ID: id(3), Hosts: []string{"route.com"}, Paths: []string{"~/(path)"}},
		))
		runCases(t, r, []routeCase{{"regex", get("GET", "/path", "route.com"), 3}})
	})
	t.Run("matches from the beginning of the request URI [uri regex]", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{`~/prefix/[0-9]+`}}))
		runCases(t, r, []routeCase{
			{"sanity", get("GET", "/prefix/123", "domain.org"), 1},
			{"anchored", get("GET", "/extra/prefix/123", "domain.org"), 0},
		})
	})
}

// describe("[wildcard host]")
func TestWildcardHost(t *testing.T) {
	base := func(extra ...Route) *Router {
		return mustNew(t, withSvc(append([]Route{
			{ID: id(1), Hosts: []string{"*.route.com"}},
			{ID: id(2), Hosts: []string{"route.*"}},
		}, extra...)...))
	}
	runCases(t, base(), []routeCase{
		{"matches leftmost wildcards", get("GET", "/", "foo.route.com"), 1},
		{"matches rightmost wildcards", get("GET", "/", "route.org"), 2},
		{"matches any port in request (rightmost)", get("GET", "/", "route.org:123"), 2},
		{"matches any port in request (leftmost)", get("GET", "/", "foo.route.com:123"), 1},
	})
	t.Run("matches port-specific routes", func(t *testing.T) {
		r := base(Route{ID: id(3), Hosts: []string{"*.route.net:123"}, ServiceID: "svc"},
			Route{ID: id(4), Hosts: []string{"route.*:123"}, ServiceID: "svc"})
		runCases(t, r, []routeCase{
			{"right port", get("GET", "/", "foo.route.net:123"), 3},
			{"different port", get("GET", "/", "foo.route.net:456"), 0},
			{"port-specific is higher priority", get("GET", "/", "route.org:123"), 4},
		})
	})
	t.Run("prefers port-specific even for http default port", func(t *testing.T) {
		r := base(Route{ID: id(3), Hosts: []string{"route.*:80"}, ServiceID: "svc"})
		runCases(t, r, []routeCase{
			{"non-port matches any", get("GET", "/", "route.org:123"), 2},
			{"port 80", get("GET", "/", "route.org:80"), 3},
		})
	})
	t.Run("prefers port-specific even for https default port", func(t *testing.T) {
		r := base(Route{ID: id(3), Hosts: []string{"route.*:443"}, ServiceID: "svc"})
		runCases(t, r, []routeCase{
			{"non-port matches any", get("GET", "/", "route.org:123"), 2},
			{"port 443", get("GET", "/", "route.org:443"), 3},
		})
	})
	t.Run("does not take precedence over a plain host", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(3), Hosts: []string{"plain.route.com"}},
			Route{ID: id(1), Hosts: []string{"*.route.com"}},
			Route{ID: id(2), Hosts: []string{"route.*"}},
			Route{ID: id(4), Hosts: []string{"route.com"}},
		))
		runCases(t, r, []routeCase{
			{"route.com", get("GET", "/", "route.com"), 4},
			{"route.org", get("GET", "/", "route.org"), 2},
			{"plain.route.com", get("GET", "/", "plain.route.com"), 3},
			{"foo.route.com", get("GET", "/", "foo.route.com"), 1},
		})
	})
	t.Run("matches [wildcard host + path] even if a similar [plain host] exists", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"*.route.com"}, Paths: []string{"/path1"}},
			Route{ID: id(2), Hosts: []string{"plain.route.com"}, Paths: []string{"/path2"}},
		))
		runCases(t, r, []routeCase{
			{"wildcard", get("GET", "/path1", "plain.route.com"), 1},
			{"plain", get("GET", "/path2", "plain.route.com"), 2},
		})
	})
	t.Run("submatch_weight [wildcard host port] > [wildcard host]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"route.*"}},
			Route{ID: id(2), Hosts: []string{"route.*:80", "route.com.*"}},
		))
		runCases(t, r, []routeCase{{"port 80", get("GET", "/", "route.org:80"), 2}})
	})
	t.Run("matches a [wildcard host + port] even if a [wildcard host] matched", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"route.*"}},
			Route{ID: id(2), Hosts: []string{"route.*:123"}},
			Route{ID: id(3), Hosts: []string{"route.*:80"}},
		))
		runCases(t, r, []routeCase{{"explicit port", get("GET", "/", "route.org:123"), 2}})
	})
	t.Run("matches [wildcard/plain + uri + method]", func(t *testing.T) {
		r := base(Route{ID: id(5), Hosts: []string{"*.domain.com", "example.com"}, Paths: []string{"/path"},
			Methods: []string{"GET", "TRACE"}, ServiceID: "svc"})
		runCases(t, r, []routeCase{
			{"POST wildcard", get("POST", "/path", "foo.domain.com"), 0},
			{"GET wildcard", get("GET", "/path", "foo.domain.com"), 5},
			{"TRACE plain", get("TRACE", "/path", "example.com"), 5},
		})
	})
	// describe("[wildcard host] + [uri regex]")
	t.Run("[wildcard host] + [uri regex]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"*.example.com"}, Paths: []string{`~/users/\d+/profile`}},
			Route{ID: id(2), Hosts: []string{"*.example.com"}, Paths: []string{"/users"}},
		))
		runCases(t, r, []routeCase{
			{"regex", get("GET", "/users/123/profile", "test.example.com"), 1},
			{"prefix", get("GET", "/users", "test.example.com"), 2},
		})
	})
}

// describe("[headers]")
func TestHeaders(t *testing.T) {
	t.Run("evaluates Routes with more [headers] first", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Headers: map[string][]string{"version": {"v1", "v2"}, "user_agent": {"foo", "bar"}}},
			Route{ID: id(2), Headers: map[string][]string{"version": {"v1", "v2"}, "user_agent": {"foo", "bar"}, "location": {"east", "west"}}},
		))
		runCases(t, r, []routeCase{{"more headers", hdr("GET", "/", map[string][]string{
			"version": {"v1"}, "user-agent": {"foo"}, "location": {"north", "west"}}), 2}})
	})
	t.Run("names are case-insensitive", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Headers: map[string][]string{"USER_AGENT": {"foo", "bar"}}},
			Route{ID: id(2), Headers: map[string][]string{"user_agent": {"baz"}}},
		))
		runCases(t, r, []routeCase{
			{"foo", hdr("GET", "/", map[string][]string{"user-agent": {"foo"}}), 1},
			{"baz", hdr("GET", "/", map[string][]string{"user-agent": {"baz"}}), 2},
		})
	})
	t.Run("matches values in a case-insensitive way", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Headers: map[string][]string{"user_agent": {"foo", "bar"}}},
			Route{ID: id(2), Headers: map[string][]string{"user_agent": {"BAZ"}}},
		))
		runCases(t, r, []routeCase{
			{"FOO", hdr("GET", "/", map[string][]string{"user-agent": {"FOO"}}), 1},
			{"baz", hdr("GET", "/", map[string][]string{"user-agent": {"baz"}}), 2},
		})
	})
	// it("[cache hit should be case sensitive]"): "Quote" matches "QUOTE" and "QuoTe"
	t.Run("value Quote matches QUOTE and QuoTe", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Paths: []string{"/foo"}, Headers: map[string][]string{"test1": {"Quote"}}}))
		runCases(t, r, []routeCase{
			{"QUOTE", hdr("GET", "/foo", map[string][]string{"test1": {"QUOTE"}}), 1},
			{"QuoTe", hdr("GET", "/foo", map[string][]string{"test1": {"QuoTe"}}), 1},
		})
	})
	// transform.lua: a "~*" value is a regex compared unanchored with the
	// lower-cased header value, the regex itself lower-cased.
	t.Run("~* regex values", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), Headers: map[string][]string{"x-version": {`~*^V\d+$`}}}))
		runCases(t, r, []routeCase{
			{"V12", hdr("GET", "/", map[string][]string{"x-version": {"V12"}}), 1},
			{"v3", hdr("GET", "/", map[string][]string{"x-version": {"v3"}}), 1},
			{"not anchored away", hdr("GET", "/", map[string][]string{"x-version": {"v3-beta"}}), 0},
			{"absent", get("GET", "/", ""), 0},
		})
	})
}

// describe("[wildcard sni]") (compat and expressions only)
func TestWildcardSNI(t *testing.T) {
	r := mustNew(t, withSvc(
		Route{ID: id(1), SNIs: []string{"*.sni.test"}, Protocols: []string{"https"}},
		Route{ID: id(2), SNIs: []string{"sni.*"}, Protocols: []string{"https"}},
	))
	tls := func(sni string) *Request {
		q := get("GET", "/", "any.test")
		q.Scheme, q.SNI = "https", sni
		return q
	}
	runCases(t, r, []routeCase{
		{"leftmost foo.sni.test", tls("foo.sni.test"), 1},
		{"leftmost foo.bar.sni.test", tls("foo.bar.sni.test"), 1},
		{"rightmost sni.foo", tls("sni.foo"), 2},
		{"rightmost sni.foo.bar", tls("sni.foo.bar"), 2},
		{"no match bar.sni.foo", tls("bar.sni.foo"), 0},
		{"no match foo.sni.test.bar", tls("foo.sni.test.bar"), 0},
	})
	// transform.lua get_expression: (net.protocol != "https" || tls.sni ...):
	// over plain http the snis do not take part.
	t.Run("snis ignored over http", func(t *testing.T) {
		r := mustNew(t, withSvc(Route{ID: id(1), SNIs: []string{"a.test"}, Paths: []string{"/x"}}))
		runCases(t, r, []routeCase{
			{"http", get("GET", "/x", "h"), 1},
			{"https other sni", func() *Request { q := get("GET", "/x", "h"); q.Scheme, q.SNI = "https", "b.test"; return q }(), 0},
			{"https no sni", func() *Request { q := get("GET", "/x", "h"); q.Scheme = "https"; return q }(), 0},
			{"https", func() *Request { q := get("GET", "/x", "h"); q.Scheme, q.SNI = "https", "a.test"; return q }(), 1},
		})
		// "last dot in FQDNs must not be used for routing" (sni_val_transform)
		r = mustNew(t, withSvc(Route{ID: id(2), SNIs: []string{"a.test."}}))
		runCases(t, r, []routeCase{
			{"route with trailing dot", func() *Request { q := get("GET", "/", "h"); q.Scheme, q.SNI = "https", "a.test"; return q }(), 2},
		})
	})
}

// describe("edge-cases")
func TestEdgeCases(t *testing.T) {
	t.Run("[host] and [uri] have higher priority than [method]", func(t *testing.T) {
		r := mustNew(t, selectUseCase()[:7])
		runCases(t, r, []routeCase{
			{"host", get("TRACE", "/", "domain-2.org"), 1},
			{"uri", get("TRACE", "/my-route", "domain.org"), 3},
		})
	})
	t.Run("half [uri] and [host] match does not supersede another route", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"host1.com"}, Paths: []string{"/v1/path"}},
			Route{ID: id(2), Hosts: []string{"host2.com"}, Paths: []string{"/"}},
		))
		runCases(t, r, []routeCase{
			{"host1", get("GET", "/v1/path", "host1.com"), 1},
			{"host2", get("GET", "/v1/path", "host2.com"), 2},
		})
	})
	t.Run("half [wildcard host] and [method] match does not supersede another route", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Hosts: []string{"host.*"}, Methods: []string{"GET"}},
			Route{ID: id(2), Hosts: []string{"host.*"}, Methods: []string{"POST"}},
		))
		runCases(t, r, []routeCase{
			{"GET", get("GET", "/", "host.com"), 1},
			{"POST", get("POST", "/", "host.com"), 2},
		})
	})
	t.Run("half [uri regex] and [method] match does not supersede another route", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Methods: []string{"GET"}, Paths: []string{`~/users/\d+/profile`}},
			Route{ID: id(2), Methods: []string{"POST"}, Paths: []string{`~/users/\d*/profile`}},
		))
		runCases(t, r, []routeCase{
			{"GET", get("GET", "/users/123/profile", "domain.org"), 1},
			{"POST", get("POST", "/users/123/profile", "domain.org"), 2},
		})
	})
	t.Run("[method] does not supersede [uri prefix]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Methods: []string{"GET"}},
			Route{ID: id(2), Paths: []string{"/example"}},
		))
		runCases(t, r, []routeCase{
			{"exact", get("GET", "/example", "domain.org"), 2},
			{"prefix", get("GET", "/example/status/200", "domain.org"), 2},
		})
	})
	t.Run("[method] does not supersede [wildcard host]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Methods: []string{"GET"}},
			Route{ID: id(2), Hosts: []string{"domain.*"}},
		))
		runCases(t, r, []routeCase{
			{"nothing.com", get("GET", "/", "nothing.com"), 1},
			{"domain.com", get("GET", "/", "domain.com"), 2},
		})
	})
	t.Run("root / [uri]", func(t *testing.T) {
		routes := append(withSvc(Route{ID: "e8fb37f1-102d-461e-9c51-6608a6bb810f", Paths: []string{"/"}}), selectUseCase()[:7]...)
		r := mustNew(t, routes)
		root := func(q *Request) string {
			if m := r.Match(q); m != nil {
				return m.Route.ID
			}
			return ""
		}
		if got := root(get("GET", "/", "domain.org")); got != "e8fb37f1-102d-461e-9c51-6608a6bb810f" {
			t.Errorf("request with [method]: %s", got)
		}
		runCases(t, r, []routeCase{
			{"does not supersede another route", get("GET", "/my-route", "domain.org"), 3},
			{"does not supersede another route (deeper)", get("GET", "/my-route/hello/world", "domain.org"), 3},
		})
		if got := root(get("GET", "/foobar/baz", "domain.org")); got != "e8fb37f1-102d-461e-9c51-6608a6bb810f" {
			t.Errorf("acts as a catch-all route: %s", got)
		}
	})
	t.Run("multiple routes of same category with conflicting values", func(t *testing.T) {
		routes := selectUseCase()
		for i := 1; i <= 5; i++ {
			routes = append(routes, Route{ID: "e8fb37f1-102d-461e-9c51-6608a6bb811" + string(rune('0'+i)),
				Hosts: []string{"domain.org"}, Paths: []string{"/my-uri"}, ServiceID: "svc"})
		}
		routes = append(routes, Route{ID: id(21), Hosts: []string{"domain.org"}, Paths: []string{"/my-target-uri"}, ServiceID: "svc"})
		r := mustNew(t, routes)
		runCases(t, r, []routeCase{{"target", get("GET", "/my-target-uri", "domain.org"), 21}})
	})
	t.Run("more [headers] has priority over longer [paths]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Headers: map[string][]string{"version": {"v1"}}, Paths: []string{"/my-route/hello"}},
			Route{ID: id(2), Headers: map[string][]string{"version": {"v1"}, "location": {"us-east"}}, Paths: []string{"/my-route"}},
		))
		h := map[string][]string{"version": {"v1"}, "location": {"us-east"}}
		runCases(t, r, []routeCase{
			{"hello", withHeaders(get("GET", "/my-route/hello", "domain.org"), h), 2},
			{"hello/world", withHeaders(get("GET", "/my-route/hello/world", "domain.org"), h), 2},
		})
	})
}

// describe("[both regex and prefix with regex_priority]"), ("[both regex and
// prefix]"), ("[overlapping prefixes]"): every flavor.
func TestMixedPaths(t *testing.T) {
	t.Run("[prefix matching ignore regex_priority]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"/.*"}, Hosts: []string{"domain-1.org"}},
			Route{ID: id(2), Paths: []string{"/"}, Hosts: []string{"domain-2.org"}, RegexPriority: 5},
			Route{ID: id(3), Paths: []string{"/v1"}, Hosts: []string{"domain-2.org"}},
		))
		runCases(t, r, []routeCase{{"/v1", get("GET", "/v1", "domain-2.org"), 3}})
	})
	t.Run("[assigns different priorities to regex and non-regex path]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"~/some/thing/else", "/foo"}, Hosts: []string{"domain-1.org"}},
			Route{ID: id(2), Paths: []string{"/foo/bar"}, Hosts: []string{"domain-1.org"}},
		))
		runCases(t, r, []routeCase{
			{"regex", get("GET", "/some/thing/else", "domain-1.org"), 1},
			{"longer prefix", get("GET", "/foo/bar", "domain-1.org"), 2},
		})
	})
	t.Run("[assigns different priorities to each path]", func(t *testing.T) {
		r := mustNew(t, withSvc(
			Route{ID: id(1), Paths: []string{"/foo", "/foo/bar/baz"}, Hosts: []string{"domain-1.org"}},
			Route{ID: id(2), Paths: []string{"/foo/bar"}, Hosts: []string{"domain-1.org"}},
		))
		runCases(t, r, []routeCase{
			{"/foo", get("GET", "/foo", "domain-1.org"), 1},
			{"/foo/bar", get("GET", "/foo/bar", "domain-1.org"), 2},
			{"/foo/bar/baz (the longer part of route 1)", get("GET", "/foo/bar/baz", "domain-1.org"), 1},
		})
	})
	t.Run("[can create route with multiple paths and no service]", func(t *testing.T) {
		if _, err := New([]Route{{ID: id(1), Paths: []string{"/foo", "/foo/bar/baz"}}}, nil); err != nil {
			t.Fatal(err)
		}
	})
}
