package router

// splitHostPort is transform.lua split_host_port: the port is whatever follows
// the first ':' when it is a number, otherwise the whole text is the host.
// So "[::1]:80" is one host with no port, as in Kong's compat router.
func splitHostPort(s string) (host string, port int, hasPort bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if p, ok := parsePort(s[i+1:]); ok {
				return s[:i], p, true
			}
			return s, 0, false
		}
	}
	return s, 0, false
}

// parsePort accepts decimal digits (Lua's tonumber also takes hex and
// floats; nginx never hands those over as a port).
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
