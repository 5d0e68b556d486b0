package proxy

import "github.com/valyala/fasthttp"

// The response headers of Kong's add_debug_headers (kong/router/utils.lua).
var (
	hdrRouteID     = []byte("Kong-Route-Id")
	hdrRouteName   = []byte("Kong-Route-Name")
	hdrServiceID   = []byte("Kong-Service-Id")
	hdrServiceName = []byte("Kong-Service-Name")
)

// wantsDebugHeaders is Kong's check after routing (add_debug_headers):
// allow_debug_header is on and the request has a Kong-Debug header, under
// any case and with '_' for '-' (Kong's get_header("kong_debug", ctx)),
// whatever its value, an empty one included.
func (p *Proxy) wantsDebugHeaders(h *fasthttp.RequestHeader) bool {
	if !p.cfg.AllowDebugHeader {
		return false
	}
	found := false
	requestFields(h, false, func(k, _ []byte) {
		if !found && headerNameEqual(k, "kong-debug") {
			found = true
		}
	})
	return found
}

// setDebugHeaders writes the matched Route's and Service's ids and names
// into h (each only when the entity has it), before the plugins'
// header_filter. Kong sets them in ngx.header when it routes, so they are
// in every response after routing (a plugin's exit, Kong's own errors,
// the upstream's) unless a plugin removes them, and a plugin's own value
// set in access replaces the router's: one already in h is left.
// Difference: they are not seen by the access and response phases.
func (c *Context) setDebugHeaders(h *fasthttp.ResponseHeader) {
	m := &c.Match
	set := func(k []byte, v string) {
		if v != "" && !responseHas(h, k) {
			h.SetCanonical(k, s2b(v))
		}
	}
	if r := m.Route; r != nil {
		set(hdrRouteID, r.ID)
		set(hdrRouteName, r.Name)
	}
	if s := m.Service; s != nil {
		set(hdrServiceID, s.ID)
		set(hdrServiceName, s.Name)
	}
}

// responseHas reports whether h has a header named name, in any case.
func responseHas(h *fasthttp.ResponseHeader, name []byte) bool {
	for k := range h.All() {
		if equalFold(k, name) {
			return true
		}
	}
	return false
}
