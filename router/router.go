package router

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Router matches requests to Routes. It is immutable and safe for concurrent
// use.
type Router struct {
	matchers []*matcher // by descending (priority, id)

	// Candidate index: every matcher is in exactly one bucket (host, path,
	// rest), under one or more keys; a request gathers the lists its host and
	// path can reach and walks them merged by rank, so the first matcher that
	// matches is the one the full ordered scan would find.
	byHost       map[string][]int32 // exact host entries
	byHostSuffix map[string][]int32 // "*.example.com" entries, by ".example.com"
	byHostPrefix map[string][]int32 // "example.*" entries, by "example."
	byPrefix     map[string][]int32 // host-less Routes whose paths all start with a known literal
	prefixLens   []int              // the key lengths of byPrefix, ascending
	rest         []int32            // everything else

	usesHost bool
}

// Option changes how New builds a Router.
type Option func(*options)

type options struct {
	pathHandlingV1 bool
	createdAtTies  bool
}

// WithPathHandlingV1 honours path_handling = "v1" as Kong's traditional
// router does. Kong's traditional_compatible router ignores it (every Route
// is joined "v0", and Kong warns that v1 "will not work"), which is the
// default here.
func WithPathHandlingV1() Option { return func(o *options) { o.pathHandlingV1 = true } }

// WithTraditional answers as Kong's traditional router (router_flavor =
// traditional) where it differs from traditional_compatible in ways Kong's
// specs check: path_handling v1 (WithPathHandlingV1), and routes of the
// same priority tried oldest created_at first (traditional.lua
// sort_routes), before the descending id.
func WithTraditional() Option {
	return func(o *options) { o.pathHandlingV1, o.createdAtTies = true, true }
}

// New builds a Router from Routes and the Services they point to (by id).
// A regex that neither Go's regexp nor regexp2 can compile, or an
// unparsable source/destination, fails the build with an error naming the
// Route.
func New(routes []Route, services map[string]*Service, opts ...Option) (*Router, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	r := &Router{byHost: map[string][]int32{}, byHostSuffix: map[string][]int32{},
		byHostPrefix: map[string][]int32{}, byPrefix: map[string][]int32{}}
	var errs []error
	for i := range routes {
		rt := &routes[i]
		if rt.ID == "" {
			errs = append(errs, fmt.Errorf("route #%d: could not categorize route: no id", i+1))
			continue
		}
		if !isHTTPRoute(rt) {
			continue
		}
		var svc *Service
		if rt.ServiceID != "" {
			svc = services[rt.ServiceID]
			if svc != nil && !svc.enabled() {
				continue
			}
		}
		groups := pathGroups(rt.Paths)
		if len(groups) <= 1 {
			m, err := compileMatcher(rt, svc, rt.ID, rt.Paths, &o)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r.matchers = append(r.matchers, m)
			continue
		}
		for gi, g := range groups {
			id := uuidV5(splitRouteNamespace, rt.ID+"#"+itoa(gi+1))
			m, err := compileMatcher(rt, svc, id, g, &o)
			if err != nil {
				errs = append(errs, err)
				break
			}
			r.matchers = append(r.matchers, m)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(r.matchers, func(i, j int) bool {
		a, b := r.matchers[i], r.matchers[j]
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if o.createdAtTies && a.route.CreatedAt != b.route.CreatedAt {
			return a.route.CreatedAt < b.route.CreatedAt
		}
		return a.id > b.id
	})
	if len(r.matchers) > math.MaxInt32 {
		return nil, errors.New("router: too many routes")
	}
	r.buildIndex()
	return r, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func (r *Router) buildIndex() {
	lens := map[int]bool{}
	for i, m := range r.matchers {
		rank := int32(i)
		if len(m.hosts) > 0 {
			r.usesHost = true
		}
		if indexableHosts(m) {
			for _, h := range m.hosts {
				idx := r.byHost
				switch h.op {
				case opSuffix:
					idx = r.byHostSuffix
				case opPrefix:
					idx = r.byHostPrefix
				}
				if l := idx[h.value]; len(l) == 0 || l[len(l)-1] != rank {
					idx[h.value] = append(l, rank)
				}
			}
			continue
		}
		if keys := literalPathKeys(m); keys != nil {
			for _, k := range keys {
				r.byPrefix[k] = append(r.byPrefix[k], rank)
				lens[len(k)] = true
			}
			continue
		}
		r.rest = append(r.rest, rank)
	}
	for l := range lens {
		r.prefixLens = append(r.prefixLens, l)
	}
	sort.Ints(r.prefixLens)
}

// indexableHosts reports whether every host of the matcher can be found
// from a request host: exact names, and wildcards that end or start at a
// label boundary (".example.com", "example."), as Kong's schema requires.
func indexableHosts(m *matcher) bool {
	if len(m.hosts) == 0 {
		return false
	}
	for _, h := range m.hosts {
		switch {
		case h.op == opSuffix && !strings.HasPrefix(h.value, "."),
			h.op == opPrefix && !strings.HasSuffix(h.value, "."):
			return false
		}
	}
	return true
}

// literalPathKeys returns, for a matcher whose every path has a literal
// prefix, the distinct prefixes; nil otherwise.
func literalPathKeys(m *matcher) []string {
	if len(m.paths) == 0 {
		return nil
	}
	var keys []string
	for _, p := range m.paths {
		k := p.prefix
		if p.re != nil {
			k = p.re.prefix
		}
		if k == "" {
			return nil
		}
		if !contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Len is the number of matchers (Routes, counting each part of a Route split
// by its paths).
func (r *Router) Len() int { return len(r.matchers) }

// Match routes req; nil when no Route matches (the proxy answers 404 "no
// Route matched with those values").
func (r *Router) Match(req *Request) *Match {
	m := new(Match)
	if !r.MatchInto(req, m) {
		return nil
	}
	return m
}

// reqState is a request as the matchers read it.
type reqState struct {
	req      *Request
	path     string
	host     string // Host without its port
	hasHost  bool
	dstPort  int // Host's port when it has one, else req.DstPort (fields.lua net.dst.port)
	isHTTPS  bool
	captures []int
}

// MatchInto is Match writing into out, which it overwrites; it reports
// whether a Route matched. With a prefix-path or host Route it allocates
// only the upstream URI when that differs from the request path.
func (r *Router) MatchInto(req *Request, out *Match) bool {
	*out = Match{}
	st := reqState{req: req, isHTTPS: req.Scheme == "https"}
	st.path = NormalizePath(StripQuery(req.URI))
	// Kong's ATC context refuses a value that is not UTF-8, and the request
	// ends in 404 (08-router_spec.lua "gracefully handles invalid utf-8
	// sequences").
	if !utf8.ValidString(st.path) {
		return false
	}
	if req.Host != "" {
		h, port, hasPort := splitHostPort(req.Host)
		if r.usesHost && !utf8.ValidString(h) {
			return false
		}
		st.host, st.hasHost = h, true
		if hasPort {
			st.dstPort = port
		} else {
			st.dstPort = req.DstPort
		}
	} else {
		st.dstPort = req.DstPort
	}

	var buf [32][]int32
	lists := buf[:0]
	if st.hasHost {
		h := st.host
		if l := r.byHost[h]; len(l) > 0 {
			lists = append(lists, l)
		}
		if len(r.byHostSuffix) > 0 || len(r.byHostPrefix) > 0 {
			for i := 0; i < len(h); i++ {
				if h[i] != '.' {
					continue
				}
				if l := r.byHostSuffix[h[i:]]; len(l) > 0 {
					lists = append(lists, l)
				}
				if l := r.byHostPrefix[h[:i+1]]; len(l) > 0 {
					lists = append(lists, l)
				}
			}
		}
	}
	for _, n := range r.prefixLens {
		if n > len(st.path) {
			break
		}
		if l := r.byPrefix[st.path[:n]]; len(l) > 0 {
			lists = append(lists, l)
		}
	}
	if len(r.rest) > 0 {
		lists = append(lists, r.rest)
	}
	last := int32(-1)
	for {
		best, rank := -1, int32(math.MaxInt32)
		for i, l := range lists {
			if len(l) > 0 && l[0] < rank {
				best, rank = i, l[0]
			}
		}
		if best < 0 {
			return false
		}
		lists[best] = lists[best][1:]
		if rank == last {
			continue // reached through two keys (hosts "*.a.b" and "*.b")
		}
		last = rank
		if r.try(r.matchers[rank], &st, out) {
			return true
		}
	}
}

// try evaluates one matcher, and on success fills out.
func (r *Router) try(m *matcher, st *reqState, out *Match) bool {
	req := st.req
	if len(m.methods) > 0 {
		if !contains(m.methods, req.Method) {
			return false
		}
	}
	var matchedHost, matchedSNI string
	if len(m.hosts) > 0 {
		if !st.hasHost {
			return false
		}
		ok := false
		for i := range m.hosts {
			h := &m.hosts[i]
			if h.matchName(st.host) && (h.port < 0 || h.port == st.dstPort) {
				ok, matchedHost = true, h.entry
				break
			}
		}
		if !ok {
			return false
		}
	}
	// (net.protocol != "https" || tls.sni ...): SNIs only count over https
	if len(m.snis) > 0 && st.isHTTPS {
		if req.SNI == "" {
			return false
		}
		ok := false
		for i := range m.snis {
			if m.snis[i].matchName(req.SNI) {
				ok, matchedSNI = true, m.snis[i].entry
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(m.sources) > 0 && !anyNet(m.sources, req.SrcIP, req.SrcPort) {
		return false
	}
	if len(m.destinations) > 0 && !anyNet(m.destinations, req.DstIP, st.dstPort) {
		return false
	}
	var matchedPath, matchedText string
	if len(m.paths) > 0 && !m.regexPaths {
		for i := range m.paths {
			if strings.HasPrefix(st.path, m.paths[i].prefix) {
				matchedPath, matchedText = m.paths[i].entry, m.paths[i].prefix
				break
			}
		}
		if matchedPath == "" {
			return false
		}
	}
	for i := range m.headers {
		if !matchHeader(&m.headers[i], req.Headers) {
			return false
		}
	}
	var caps *Captures
	if m.regexPaths {
		for i := range m.paths {
			p := &m.paths[i]
			idx := p.re.find(st.path)
			if idx == nil {
				continue
			}
			matchedPath, matchedText = p.entry, st.path[idx[0]:idx[1]]
			for g := 2; g < len(idx); g += 2 {
				if idx[g] >= 0 {
					caps = &Captures{subject: st.path, idx: idx, names: p.re.names}
					break
				}
			}
			break
		}
		if matchedPath == "" {
			return false
		}
	}

	rt := m.route
	*out = Match{
		Route: rt, Service: m.service, Path: st.path,
		MatchedPath: matchedPath, MatchedHost: matchedHost, MatchedSNI: matchedSNI,
		MatchedHeaders: m.headerNames, URICaptures: caps,
		UpstreamScheme: m.target.scheme, UpstreamHostname: m.target.host, UpstreamPort: m.target.port,
		PreserveHost: rt.PreserveHost,
	}
	if len(m.methods) > 0 {
		out.MatchedMethod = req.Method
	}
	if rt.StripPath && matchedPath != "" {
		out.Prefix = matchedText
	}
	out.UpstreamURI = m.upstreamURI(st.path, out.Prefix, matchedPath != "")
	if rt.PreserveHost {
		out.UpstreamHost = req.Host
	} else {
		out.UpstreamHost = m.target.hostHdr
	}
	return true
}

// upstreamURI applies strip_path and path_handling (atc.lua set_upstream_uri
// with utils.lua get_upstream_uri_v0; traditional.lua for v1).
func (m *matcher) upstreamURI(path, prefix string, pathMatched bool) string {
	strip := m.route.StripPath
	if m.v1 {
		postfix := strings.TrimPrefix(path, "/")
		if pathMatched && prefix != "" {
			postfix = sanitizePostfix(path[len(prefix):])
		}
		return upstreamURIv1(strip, postfix, path, m.target.base)
	}
	if prefix == "" {
		prefix = "/"
	}
	postfix := ""
	if len(prefix) < len(path) {
		postfix = sanitizePostfix(path[len(prefix):])
	}
	return upstreamURIv0(strip, postfix, path, m.target.base)
}

func anyNet(conds []netCond, ip netip.Addr, port int) bool {
	for i := range conds {
		if conds[i].match(ip, port) {
			return true
		}
	}
	return false
}

// matchHeader is any(lower(http.headers.<name>)) compared with every value
// of the condition: equal to a lower-cased value, or matching (unanchored) a
// lower-cased regex.
func matchHeader(c *headerCond, hs HeaderSource) bool {
	if hs == nil {
		return false
	}
	for _, v := range hs.HeaderValues(c.name) {
		if !utf8.ValidString(v) {
			continue
		}
		lv := strings.ToLower(v)
		if contains(c.exact, lv) {
			return true
		}
		for _, re := range c.res {
			if re.matchString(lv) {
				return true
			}
		}
	}
	return false
}
