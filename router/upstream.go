package router

import (
	"strconv"
	"strings"
)

// sanitizePostfix is utils.lua sanitize_uri_postfix: a remainder that starts
// with a dot segment loses it.
func sanitizePostfix(s string) string {
	switch {
	case s == "." || s == "..":
		return ""
	case strings.HasPrefix(s, "./"):
		return s[2:]
	case strings.HasPrefix(s, "../"):
		return s[3:]
	}
	return s
}

// upstreamURIv0 joins the service path (base) and the request path as
// path_handling "v0" does (utils.lua get_upstream_uri_v0); postfix is what
// follows the matched prefix, reqURI the whole normalised request path. The
// cases are spelled out in spec/fixtures/router_path_handling_tests.lua.
func upstreamURIv0(strip bool, postfix, reqURI, base string) string {
	if strings.HasSuffix(base, "/") {
		if !strip {
			// keep the request path, under the service path
			return base + strings.TrimPrefix(reqURI, "/")
		}
		switch {
		case postfix == "":
			if base == "/" || strings.HasSuffix(reqURI, "/") {
				return base
			}
			return base[:len(base)-1]
		case postfix[0] == '/':
			return base[:len(base)-1] + postfix
		}
		return base + postfix
	}
	if !strip {
		if reqURI == "/" {
			return base
		}
		return base + reqURI
	}
	switch {
	case postfix == "":
		if len(reqURI) > 1 && strings.HasSuffix(reqURI, "/") {
			return base + "/"
		}
		return base
	case postfix[0] == '/':
		return base + postfix
	}
	return base + "/" + postfix
}

// upstreamURIv1 is path_handling "v1" of Kong's traditional router
// (traditional.lua): the service path and the remainder are concatenated
// as they are, only a doubled slash at the seam is dropped.
func upstreamURIv1(strip bool, postfix, reqURI, base string) string {
	if !strip {
		return base + strings.TrimPrefix(reqURI, "/")
	}
	if strings.HasSuffix(base, "/") && strings.HasPrefix(postfix, "/") {
		return base[:len(base)-1] + postfix
	}
	return base + postfix
}

// upstreamTarget is what utils.lua get_service_info derives from a Service,
// plus the Host header the balancer sends when preserve_host is off
// (balancer/init.lua set_host_header).
type upstreamTarget struct {
	scheme   string
	host     string
	port     int
	base     string // service path, "/" when unset; "/" for non-HTTP services too
	hostHdr  string
	hasSvc   bool
	httpType bool
}

func newUpstreamTarget(s *Service) upstreamTarget {
	t := upstreamTarget{base: "/"}
	if s == nil {
		return t
	}
	t.hasSvc = true
	t.scheme = s.Protocol
	t.host = s.Host
	t.port = s.Port
	if t.port == 0 {
		switch t.scheme {
		case "https":
			t.port = 443
		case "http":
			t.port = 80
		}
	}
	t.httpType = httpSubsystem[t.scheme]
	if t.httpType && s.Path != "" {
		t.base = s.Path
	}
	t.hostHdr = t.host
	p := t.port
	if (p != 80 && p != 443) ||
		(p == 80 && t.scheme != "http" && t.scheme != "grpc") ||
		(p == 443 && t.scheme != "https" && t.scheme != "grpcs") {
		t.hostHdr = t.host + ":" + strconv.Itoa(p)
	}
	return t
}
