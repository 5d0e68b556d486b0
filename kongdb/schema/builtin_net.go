package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Host and IP validators, following kong.tools.ip (hostname_type,
// normalize_ipv4, normalize_ipv6, check_hostname, normalize_ip and the
// is_valid_* family, where Kong parses addresses with inet_pton through
// lua-resty-ipmatcher).

// normalizedHost is normalize_ip's result table.
type normalizedHost struct {
	typ     string // "ipv4", "ipv6" or "name"
	host    string
	port    int
	hasPort bool
}

const msgInvalidPort = "invalid port number"

// hostnameType guesses the address kind as Kong does: more than one ":" is
// ipv6, only digits and dots (once colons are dropped) is ipv4, else name.
func hostnameType(s string) string {
	colons, other, n := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			colons++
		case c == '.' || isDigit(c):
			n++
		default:
			other = true
		}
	}
	if colons > 1 {
		return "ipv6"
	}
	if n > 0 && !other {
		return "ipv4"
	}
	return "name"
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// portNumber reads a non-empty run of digits as Lua's tonumber would.
func portNumber(digits string) float64 {
	n, _ := strconv.ParseFloat(digits, 64)
	return n
}

func normalizeIPv4(addr string) (normalizedHost, string) {
	bad := "invalid ipv4 address: " + addr
	ip, port := addr, ""
	hasPort := false
	if i := strings.IndexByte(addr, ':'); i >= 0 {
		ip, port, hasPort = addr[:i], addr[i+1:], true
		if port == "" || !allDigits(port) {
			return normalizedHost{}, bad
		}
	}
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return normalizedHost{}, bad
	}
	var oct [4]int
	for i, p := range parts {
		if len(p) < 1 || len(p) > 3 || !allDigits(p) {
			return normalizedHost{}, bad
		}
		oct[i], _ = strconv.Atoi(p)
		if oct[i] > 255 {
			return normalizedHost{}, bad
		}
	}
	r := normalizedHost{typ: "ipv4", host: fmt.Sprintf("%d.%d.%d.%d", oct[0], oct[1], oct[2], oct[3])}
	if hasPort {
		n := portNumber(port)
		if n > 65535 {
			return normalizedHost{}, msgInvalidPort
		}
		r.port, r.hasPort = int(n), true
	}
	return r, ""
}

func isHexGroup(g string) bool {
	if len(g) < 1 || len(g) > 4 {
		return false
	}
	for i := 0; i < len(g); i++ {
		if !isXDigit(g[i]) {
			return false
		}
	}
	return true
}

func normalizeIPv6(addr string) (normalizedHost, string) {
	check := addr
	r := normalizedHost{typ: "ipv6"}
	if strings.HasPrefix(addr, "[") {
		// %b[] : the first balanced bracket group
		depth, end := 0, -1
		for i := 0; i < len(addr); i++ {
			if addr[i] == '[' {
				depth++
			} else if addr[i] == ']' {
				depth--
				if depth == 0 {
					end = i
					break
				}
			}
		}
		if end >= 0 {
			check = addr[1:end]
			if rest := addr[end+1:]; rest != "" {
				if !strings.HasPrefix(rest, ":") || !allDigits(rest[1:]) || len(rest) == 1 {
					return normalizedHost{}, "invalid ipv6 address"
				}
				n := portNumber(rest[1:])
				if n > 65535 {
					return normalizedHost{}, msgInvalidPort
				}
				r.port, r.hasPort = int(n), true
			}
		}
	}
	if strings.HasPrefix(check, ":") {
		check = "0" + check
	}
	if strings.HasSuffix(check, ":") {
		check += "0"
	}
	if strings.Contains(check, "::") {
		n := strings.Count(check, ":")
		ins := ":"
		if n < 8 {
			ins += strings.Repeat("0:", 8-n)
		}
		check = strings.Replace(check, "::", ins, 1)
	}
	groups := strings.Split(check, ":")
	if len(groups) != 8 {
		return normalizedHost{}, "invalid ipv6 address: " + addr
	}
	var b strings.Builder
	for i, g := range groups {
		if !isHexGroup(g) {
			return normalizedHost{}, "invalid ipv6 address: " + addr
		}
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.Repeat("0", 4-len(g)))
		b.WriteString(strings.ToLower(g))
	}
	r.host = b.String()
	return r, ""
}

func checkHostname(addr string) (normalizedHost, string) {
	name := addr
	r := normalizedHost{typ: "name"}
	// a trailing ":<digits>" is the port
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && i < len(addr)-1 && allDigits(addr[i+1:]) {
		n := portNumber(addr[i+1:])
		name = addr[:i]
		if n > 65535 {
			return normalizedHost{}, msgInvalidPort
		}
		r.port, r.hasPort = int(n), true
	}
	bad := func() string { return "invalid hostname: " + addr }
	if name == "" {
		return normalizedHost{}, bad()
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' {
			return normalizedHost{}, bad()
		}
	}
	// per "."-separated segment: no trailing "-", no empty one but the last
	for rest := name; ; {
		seg, after, more := strings.Cut(rest, ".")
		if strings.HasSuffix(seg, "-") || (seg == "" && more) {
			return normalizedHost{}, bad()
		}
		if !more {
			break
		}
		rest = after
	}
	r.host = name
	return r, ""
}

// normalizeIP is kong.tools.ip.normalize_ip: the parsed address, or the
// error message ("invalid port number", "invalid hostname: <a>", ...).
func normalizeIP(addr string) (normalizedHost, string) {
	switch hostnameType(addr) {
	case "ipv6":
		return normalizeIPv6(addr)
	case "ipv4":
		return normalizeIPv4(addr)
	}
	return checkHostname(addr)
}

func validHost(host string) (bool, string) {
	res, err := normalizeIP(host)
	if err != "" && err != msgInvalidPort {
		return false, "invalid value: " + host
	}
	if err == msgInvalidPort || res.hasPort {
		return false, "must not have a port"
	}
	return true, ""
}

func validHostWithOptionalPort(host string) (bool, string) {
	if _, err := normalizeIP(host); err != "" {
		return false, err
	}
	return true, ""
}

// validHostWithWildcards checks a routes.hosts entry: wildcards stand for
// a label while the host[:port] is checked.
func validHostWithWildcards(host string) (bool, string) {
	return validHostWithOptionalPort(strings.ReplaceAll(host, "*", "abc"))
}

func validNameHost(host string) (bool, string) {
	res, err := normalizeIP(host)
	if err != "" && err != msgInvalidPort {
		return false, "invalid value: " + host
	}
	if err == "" && res.typ != "name" {
		return false, "must not be an IP"
	}
	if err == msgInvalidPort || res.hasPort {
		return false, "must not have a port"
	}
	return true, ""
}

func validSNI(host string) (bool, string) { return validNameHost(host) }

func validWildcardHost(host string) (bool, string) {
	if idx := strings.IndexByte(host, '*'); idx >= 0 {
		if idx != 0 && idx != len(host)-1 {
			return false, "wildcard must be leftmost or rightmost character"
		}
		if strings.Count(host, "*") > 1 {
			return false, "only one wildcard must be specified"
		}
		host = strings.Replace(host, "*", "wildcard", 1)
	}
	return validNameHost(host)
}

// parseIPv4 and parseIPv6 accept what inet_pton accepts (dotted quads
// without leading zeros; IPv6 without zone).
func parseIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func parseIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

// cidrOK splits at the first "/" and checks the address with parse and
// the prefix as a decimal from 0 to max without sign or leading zeros.
func cidrOK(s string, parse func(string) bool, max int) bool {
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return false
	}
	p := s[i+1:]
	if p == "" || !allDigits(p) || (len(p) > 1 && p[0] == '0') || len(p) > 3 {
		return false
	}
	n, _ := strconv.Atoi(p)
	return n <= max && parse(s[:i])
}

// IsValidIP, IsValidCIDR... are kong.tools.ip's is_valid_* predicates.
func IsValidIP(s string) bool       { return parseIPv4(s) || parseIPv6(s) }
func IsValidCIDRv4(s string) bool   { return cidrOK(s, parseIPv4, 32) }
func IsValidCIDRv6(s string) bool   { return cidrOK(s, parseIPv6, 128) }
func IsValidIPOrCIDR(s string) bool { return IsValidIP(s) || IsValidCIDRv4(s) || IsValidCIDRv6(s) }

func validIP(s string) (bool, string) {
	if IsValidIP(s) {
		return true, ""
	}
	return false, "not an ip address: " + s
}

func validIPOrCIDR(s string) (bool, string) {
	if IsValidIPOrCIDR(s) {
		return true, ""
	}
	return false, "invalid ip or cidr range: '" + s + "'"
}

func validIPOrCIDRv4(s string) (bool, string) {
	if parseIPv4(s) || IsValidCIDRv4(s) {
		return true, ""
	}
	return false, "invalid ipv4 cidr range: '" + s + "'"
}
