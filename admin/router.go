package admin

import (
	"net/url"
	"sort"
	"strings"
)

// route is one path pattern of the Admin API ("/services/:services/routes")
// with its handlers by method.
type route struct {
	pattern string
	segs    []string // "services", ":services", "routes"
	methods map[string]HandlerFunc
	// lua: the route (some of its methods) is served by a plugin's api.lua
	lua bool
	// acceptYAML: the route takes YAML bodies (Kong's ACCEPTS_YAML: /config)
	acceptYAML bool
}

// router finds the route of a path as lapis does for Kong: segment by
// segment, a literal segment winning over a capture.
type router struct {
	byFirst map[string][]*route // by first segment (":" for a capture)
	all     map[string]*route   // by pattern
}

func newRouter() *router {
	return &router{byFirst: map[string][]*route{}, all: map[string]*route{}}
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// add returns the route of pattern, creating it.
func (rt *router) add(pattern string) *route {
	if r, ok := rt.all[pattern]; ok {
		return r
	}
	r := &route{pattern: pattern, segs: splitPath(pattern), methods: map[string]HandlerFunc{}}
	rt.all[pattern] = r
	first := ""
	if len(r.segs) > 0 {
		first = r.segs[0]
		if first[0] == ':' {
			first = ":"
		}
	}
	rt.byFirst[first] = append(rt.byFirst[first], r)
	return r
}

// match finds the route for a raw (still percent-encoded) path and its
// captures, unescaped.
func (rt *router) match(rawPath string) (*route, map[string]string) {
	segs := splitPath(rawPath)
	first := ""
	if len(segs) > 0 {
		first = segs[0]
	}
	var best *route
	for _, cand := range [2]string{first, ":"} {
		for _, r := range rt.byFirst[cand] {
			if !r.matches(segs) {
				continue
			}
			if best == nil || r.beats(best) {
				best = r
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		return nil, nil
	}
	var params map[string]string
	for i, s := range best.segs {
		if s[0] == ':' {
			if params == nil {
				params = map[string]string{}
			}
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				v = segs[i]
			}
			params[s[1:]] = v
		}
	}
	return best, params
}

func (r *route) matches(segs []string) bool {
	if len(segs) != len(r.segs) {
		return false
	}
	for i, s := range r.segs {
		if s[0] != ':' && s != segs[i] {
			return false
		}
		if s[0] == ':' && segs[i] == "" {
			return false
		}
	}
	return true
}

// beats: at the first segment where one is literal and the other a
// capture, the literal wins.
func (r *route) beats(o *route) bool {
	for i := range r.segs {
		a, b := r.segs[i][0] == ':', o.segs[i][0] == ':'
		if a != b {
			return !a
		}
	}
	return false
}

// patterns lists every pattern in Kong's /endpoints form and order:
// captures as {name}, sorted segment by segment.
func (rt *router) patterns() []string {
	out := make([]string, 0, len(rt.all))
	for p := range rt.all {
		segs := splitPath(p)
		for i, s := range segs {
			if s[0] == ':' {
				segs[i] = "{" + s[1:] + "}"
			}
		}
		out = append(out, "/"+strings.Join(segs, "/"))
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.ReplaceAll(out[i], "/", "\x00") < strings.ReplaceAll(out[j], "/", "\x00")
	})
	return out
}

// allowed lists a route's methods for a 405's Allow header.
func (r *route) allowed() string {
	ms := make([]string, 0, len(r.methods)+2)
	for m := range r.methods {
		ms = append(ms, m)
	}
	if _, ok := r.methods["GET"]; ok {
		ms = append(ms, "HEAD")
	}
	ms = append(ms, "OPTIONS")
	sort.Strings(ms)
	return strings.Join(ms, ", ")
}

// remove drops the route of pattern: its paths answer 404 as if never
// generated (Kong's endpoints.disable).
func (rt *router) remove(pattern string) {
	r, ok := rt.all[pattern]
	if !ok {
		return
	}
	delete(rt.all, pattern)
	first := ""
	if len(r.segs) > 0 {
		first = r.segs[0]
		if first[0] == ':' {
			first = ":"
		}
	}
	rs := rt.byFirst[first]
	for i, c := range rs {
		if c == r {
			rt.byFirst[first] = append(rs[:i:i], rs[i+1:]...)
			break
		}
	}
}
