package router

import "net/netip"

// HeaderSource gives the router the request headers it needs. name is lower
// case with '-' (for example "user-agent"); the answer is every value of
// that header, nil when absent. It is only called for header names that some
// Route matches on.
type HeaderSource interface {
	HeaderValues(name string) []string
}

// MapHeaders is a HeaderSource over a map whose keys are lower-case names.
type MapHeaders map[string][]string

// HeaderValues implements HeaderSource.
func (h MapHeaders) HeaderValues(name string) []string { return h[name] }

// Request is what the router reads from a request.
type Request struct {
	Method string
	// Host is the Host header as sent, port included ("example.com:8000");
	// "" when there is none.
	Host string
	// URI is $request_uri: the raw path, with its query string, not
	// normalised; the router strips the query and normalises it as Kong does.
	URI     string
	Scheme  string // "http" or "https"
	SNI     string // TLS server name, "" when none
	Headers HeaderSource
	SrcIP   netip.Addr
	SrcPort int
	DstIP   netip.Addr
	// DstPort is the port the request came in on (Kong's ctx.host_port, or
	// $server_port). A port in the Host header takes precedence for matching,
	// as in Kong.
	DstPort int
}

// Match is the outcome of routing a request: Kong's match_t plus what the
// runloop derives from it (handler.lua access.before).
type Match struct {
	Route   *Route
	Service *Service // nil: the Route has no Service (the proxy answers 503)

	// Path is the request path the router matched: query stripped and
	// normalised (NormalizePath).
	Path string
	// Prefix is Kong's match_t.prefix: the matched part of Path when the Route
	// strips it (the prefix, or the whole regex match), "" otherwise.
	Prefix string

	// What matched, as the Route spells it ("" when the Route does not match
	// on that field).
	MatchedPath    string   // the Route's paths entry ("/foo", "~/foo/\d+")
	MatchedHost    string   // the Route's hosts entry ("*.example.com:8000")
	MatchedMethod  string   // the request method, when the Route has methods
	MatchedSNI     string   // the Route's snis entry
	MatchedHeaders []string // the header names the Route required (all matched); do not modify

	// URICaptures are the regex path's groups (Kong's
	// ngx.ctx.router_matches.uri_captures); nil when the path is a prefix, or
	// no group took part in the match.
	URICaptures *Captures

	// The upstream request.
	UpstreamScheme   string // the Service's protocol
	UpstreamHostname string // the Service's host (balancer target or Upstream name)
	UpstreamPort     int    // the Service's port, 80/443 by default
	// UpstreamURI is Kong's match_t.upstream_uri: the service path joined with
	// the (stripped) request path. The proxy sends EscapeURI(UpstreamURI),
	// followed by "?" and the query string when the request had one.
	UpstreamURI string
	// UpstreamHost is the Host header to send: the request's Host (port
	// included) when the Route preserves it, otherwise the Service's host with
	// its port unless it is the scheme's default.
	UpstreamHost string
	PreserveHost bool
}

// HTTPSRedirectStatus is the check handler.lua makes after routing: a Route
// whose protocols include https but not http, reached over another scheme,
// answers with its https_redirect_status_code (426 by default; 301, 302, 307
// and 308 redirect to https://host + request URI). forwardedProto is the
// request's scheme, or X-Forwarded-Proto from a trusted client. 0: no
// redirect.
func (m *Match) HTTPSRedirectStatus(forwardedProto string) int {
	https, http := false, false
	for _, p := range m.Route.Protocols {
		switch p {
		case "https":
			https = true
		case "http":
			http = true
		}
	}
	if !https || http || forwardedProto == "https" {
		return 0
	}
	if c := m.Route.HTTPSRedirectStatusCode; c != 0 {
		return c
	}
	return 426
}

// Captures are the groups of a regex path match. Group 0 is the whole match.
type Captures struct {
	subject string
	idx     []int    // byte offsets, two per group, -1 when the group did not take part
	names   []string // group names, "" for unnamed groups
}

// Len is the number of groups, group 0 excluded.
func (c *Captures) Len() int { return len(c.idx)/2 - 1 }

// Group returns group i (0 = the whole match) and whether it took part.
func (c *Captures) Group(i int) (string, bool) {
	if i < 0 || 2*i+1 >= len(c.idx) || c.idx[2*i] < 0 {
		return "", false
	}
	return c.subject[c.idx[2*i]:c.idx[2*i+1]], true
}

// Named returns the named group and whether it took part.
func (c *Captures) Named(name string) (string, bool) {
	for i, n := range c.names {
		if n == name && n != "" {
			return c.Group(i)
		}
	}
	return "", false
}

// Name returns the name of group i, "" when unnamed.
func (c *Captures) Name(i int) string {
	if i < 0 || i >= len(c.names) {
		return ""
	}
	return c.names[i]
}
