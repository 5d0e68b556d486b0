package balancer

import "github.com/google/uuid"

// HashSource is the request as hash_on reads it (the proxy implements it).
// Each returns false when the request has no such value.
type HashSource interface {
	// HashConsumer is the authenticated consumer's id, else the
	// credential's.
	HashConsumer() (string, bool)
	// HashIP is the client address (nginx's $remote_addr).
	HashIP() string
	// HashHeader is a header's values, joined with ", " when repeated.
	HashHeader(name string) (string, bool)
	HashCookie(name string) (string, bool)
	// HashPath is the normalised request path (nginx's $uri).
	HashPath() string
	// HashQueryArg is a query argument, its values sorted and joined
	// with "," when repeated, "true" for one without "=".
	HashQueryArg(name string) (string, bool)
	// HashURICapture is a capture of the Route's regex path, by name or
	// number.
	HashURICapture(name string) (string, bool)
}

// HashCookie is the cookie the proxy must set on the response when
// hash_on cookie found none in the request (Kong's balancer_data.hash_cookie).
type HashCookie struct {
	Key, Value, Path string
}

// String is the Set-Cookie value Kong sends.
func (c *HashCookie) String() string {
	return c.Key + "=" + c.Value + "; Path=" + c.Path + "; Same-Site=Lax; HttpOnly"
}

// HashValue is Kong's get_value_to_hash: hash_on's value, else
// hash_fallback's, else "" (consistent-hashing then hashes "").
func (b *Balancer) HashValue(src HashSource, cookie *HashCookie) string {
	u := b.Upstream
	if u.HashOn.On == "none" || u.HashOn.On == "" {
		return ""
	}
	for _, spec := range [2]HashSpec{u.HashOn, u.HashFallback} {
		var v string
		ok := false
		switch spec.On {
		case "none", "":
			return ""
		case "consumer":
			v, ok = src.HashConsumer()
		case "ip":
			v, ok = src.HashIP(), true
		case "header":
			v, ok = src.HashHeader(spec.Name)
		case "cookie":
			v, ok = src.HashCookie(spec.Name)
			if !ok {
				v, ok = uuid.NewString(), true
				if cookie != nil {
					*cookie = HashCookie{Key: spec.Name, Value: v, Path: u.CookiePath}
				}
			}
		case "path":
			v, ok = src.HashPath(), true
		case "query_arg":
			v, ok = src.HashQueryArg(spec.Name)
		case "uri_capture":
			v, ok = src.HashURICapture(spec.Name)
		}
		if ok {
			return v
		}
	}
	return ""
}
