package router

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// hostOp is how a host or SNI entry compares (transform.lua: OP_EQUAL,
// OP_PREFIX for "example.*", OP_POSTFIX for "*.example.com").
type hostOp uint8

const (
	opEqual hostOp = iota
	opPrefix
	opSuffix
)

type hostCond struct {
	op    hostOp
	value string // without the '*'
	port  int    // -1: any port
	entry string // the Route's entry, as configured
}

func (c *hostCond) matchName(name string) bool {
	switch c.op {
	case opPrefix:
		return strings.HasPrefix(name, c.value)
	case opSuffix:
		return strings.HasSuffix(name, c.value)
	}
	return name == c.value
}

type pathCond struct {
	entry  string // "/foo" or "~/foo/(\d+)"
	prefix string // prefix paths: the path itself
	re     *pattern
}

type headerCond struct {
	name  string   // lower case, '-' (Kong folds '_' and '-': replace_dashes_lower)
	exact []string // lower-cased values
	res   []*pattern
}

type netCond struct {
	hasIP   bool
	isCIDR  bool
	addr    netip.Addr
	prefix  netip.Prefix
	hasPort bool
	port    int
}

func (c *netCond) match(ip netip.Addr, port int) bool {
	if c.hasIP {
		if !ip.IsValid() {
			return false
		}
		if c.isCIDR {
			if !c.prefix.Contains(ip.Unmap()) {
				return false
			}
		} else if c.addr != ip.Unmap() {
			return false
		}
	}
	return !c.hasPort || c.port == port
}

// matcher is one entry of the router: a Route, or the part of a Route holding
// one group of its paths.
type matcher struct {
	route    *Route
	service  *Service
	id       string
	priority uint64

	methods      []string
	hosts        []hostCond
	paths        []pathCond
	regexPaths   bool
	headers      []headerCond
	headerNames  []string
	snis         []hostCond
	sources      []netCond
	destinations []netCond

	target upstreamTarget
	v1     bool // path_handling v1 honoured (WithPathHandlingV1)
}

// compileMatcher builds the matcher of Route r restricted to paths.
func compileMatcher(r *Route, s *Service, id string, paths []string, opt *options) (*matcher, error) {
	m := &matcher{
		route: r, service: s, id: strings.ToLower(id),
		priority: priority(r, paths),
		methods:  r.Methods,
		target:   newUpstreamTarget(s),
		v1:       opt.pathHandlingV1 && r.PathHandling == "v1",
	}
	for _, h := range r.Hosts {
		name, port, hasPort := splitHostPort(h)
		c := hostCond{value: name, port: -1, entry: h}
		if hasPort {
			c.port = port
		}
		switch {
		case strings.HasPrefix(name, "*"):
			c.op, c.value = opSuffix, name[1:]
		case strings.HasSuffix(name, "*"):
			c.op, c.value = opPrefix, name[:len(name)-1]
		}
		m.hosts = append(m.hosts, c)
	}
	for _, sni := range r.SNIs {
		c := hostCond{entry: sni, port: -1}
		switch {
		case strings.HasPrefix(sni, "*"):
			c.op = opSuffix
		case strings.HasSuffix(sni, "*"):
			c.op = opPrefix
		}
		v := sni
		if c.op == opPrefix {
			v = v[:len(v)-1]
		} else {
			// the last dot of an FQDN is not used for routing
			if len(v) > 1 && v[len(v)-1] == '.' {
				v = v[:len(v)-1]
			}
			if c.op == opSuffix {
				v = v[1:]
			}
		}
		c.value = v
		m.snis = append(m.snis, c)
	}
	for i, p := range paths {
		c := pathCond{entry: p}
		if isRegexPath(p) {
			if i == 0 {
				m.regexPaths = true
			}
			// anchored like the traditional router: "^" is put in front of the
			// pattern as Kong does, so "~/a|/b" anchors only its first branch
			re, err := compilePattern("^" + p[1:])
			if err != nil {
				return nil, fmt.Errorf("route %s: invalid regex path %q: %v", routeLabel(r), p, err)
			}
			c.re = re
		} else {
			c.prefix = p
		}
		m.paths = append(m.paths, c)
	}
	names := make([]string, 0, len(r.Headers))
	for name := range r.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := headerCond{name: canonicalHeader(name)}
		for _, v := range r.Headers[name] {
			if strings.HasPrefix(v, "~*") {
				// Kong lower-cases the whole value, regex included
				re, err := compilePattern(strings.ToLower(v[2:]))
				if err != nil {
					return nil, fmt.Errorf("route %s: invalid regex for header %q: %q: %v", routeLabel(r), name, v, err)
				}
				c.res = append(c.res, re)
				continue
			}
			c.exact = append(c.exact, strings.ToLower(v))
		}
		m.headers = append(m.headers, c)
		m.headerNames = append(m.headerNames, c.name)
	}
	var err error
	if m.sources, err = compileNets(r, "sources", r.Sources); err != nil {
		return nil, err
	}
	if m.destinations, err = compileNets(r, "destinations", r.Destinations); err != nil {
		return nil, err
	}
	return m, nil
}

func compileNets(r *Route, field string, in []CIDRPort) ([]netCond, error) {
	var out []netCond
	for _, e := range in {
		c := netCond{}
		if e.IP != "" {
			c.hasIP = true
			if strings.IndexByte(e.IP, '/') >= 0 {
				p, err := netip.ParsePrefix(e.IP)
				if err != nil {
					return nil, fmt.Errorf("route %s: invalid %s ip %q: %v", routeLabel(r), field, e.IP, err)
				}
				c.isCIDR, c.prefix = true, p.Masked()
			} else {
				a, err := netip.ParseAddr(e.IP)
				if err != nil {
					return nil, fmt.Errorf("route %s: invalid %s ip %q: %v", routeLabel(r), field, e.IP, err)
				}
				c.addr = a.Unmap()
			}
		}
		if e.Port != 0 {
			c.hasPort, c.port = true, e.Port
		}
		out = append(out, c)
	}
	return out, nil
}

// canonicalHeader is a header name as the router looks it up: lower case,
// with '_' read as '-' (ngx.req.get_headers() answers both spellings).
func canonicalHeader(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

func routeLabel(r *Route) string {
	if r.Name != "" {
		return fmt.Sprintf("%s (%s)", r.ID, r.Name)
	}
	return r.ID
}
