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
// lua-resty-ipmatcher). They are the one definition of these rules: the
// typedefs' validators use them, and so does the kong.tools.ip shim
// (through luahost.native).

// NormalizedHost is normalize_ip's result table.
type NormalizedHost struct {
	Type    string // "ipv4", "ipv6" or "name"
	Host    string
	Port    int
	HasPort bool
}

const msgInvalidPort = "invalid port number"

// HostnameType is kong.tools.ip.hostname_type: more than one ":" is ipv6,
// only digits and dots (once colons are dropped) is ipv4, else name (a
// syntactic guess).
func HostnameType(s string) string {
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

// NormalizeIPv4 is kong.tools.ip.normalize_ipv4 ("1.2.3.4[:port]"); the
// string is the error message when it is not one.
func NormalizeIPv4(addr string) (NormalizedHost, string) {
	bad := "invalid ipv4 address: " + addr
	ip, port := addr, ""
	hasPort := false
	if i := strings.IndexByte(addr, ':'); i >= 0 {
		ip, port, hasPort = addr[:i], addr[i+1:], true
		if port == "" || !allDigits(port) {
			return NormalizedHost{}, bad
		}
	}
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return NormalizedHost{}, bad
	}
	var oct [4]int
	for i, p := range parts {
		if len(p) < 1 || len(p) > 3 || !allDigits(p) {
			return NormalizedHost{}, bad
		}
		oct[i], _ = strconv.Atoi(p)
		if oct[i] > 255 {
			return NormalizedHost{}, bad
		}
	}
	r := NormalizedHost{Type: "ipv4", Host: fmt.Sprintf("%d.%d.%d.%d", oct[0], oct[1], oct[2], oct[3])}
	if hasPort {
		n := portNumber(port)
		if n > 65535 {
			return NormalizedHost{}, msgInvalidPort
		}
		r.Port, r.HasPort = int(n), true
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

// NormalizeIPv6 is kong.tools.ip.normalize_ipv6 ("[::1]:80" gives the
// eight groups in full, lower case, and the port).
func NormalizeIPv6(addr string) (NormalizedHost, string) {
	check := addr
	r := NormalizedHost{Type: "ipv6"}
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
					return NormalizedHost{}, "invalid ipv6 address"
				}
				n := portNumber(rest[1:])
				if n > 65535 {
					return NormalizedHost{}, msgInvalidPort
				}
				r.Port, r.HasPort = int(n), true
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
		return NormalizedHost{}, "invalid ipv6 address: " + addr
	}
	var b strings.Builder
	for i, g := range groups {
		if !isHexGroup(g) {
			return NormalizedHost{}, "invalid ipv6 address: " + addr
		}
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.Repeat("0", 4-len(g)))
		b.WriteString(strings.ToLower(g))
	}
	r.Host = b.String()
	return r, ""
}

// CheckHostname is kong.tools.ip.check_hostname ("example.com[:port]").
func CheckHostname(addr string) (NormalizedHost, string) {
	name := addr
	r := NormalizedHost{Type: "name"}
	// a trailing ":<digits>" is the port
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && i < len(addr)-1 && allDigits(addr[i+1:]) {
		n := portNumber(addr[i+1:])
		name = addr[:i]
		if n > 65535 {
			return NormalizedHost{}, msgInvalidPort
		}
		r.Port, r.HasPort = int(n), true
	}
	bad := func() string { return "invalid hostname: " + addr }
	if name == "" {
		return NormalizedHost{}, bad()
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' {
			return NormalizedHost{}, bad()
		}
	}
	// per "."-separated segment: no trailing "-", no empty one but the last
	for rest := name; ; {
		seg, after, more := strings.Cut(rest, ".")
		if strings.HasSuffix(seg, "-") || (seg == "" && more) {
			return NormalizedHost{}, bad()
		}
		if !more {
			break
		}
		rest = after
	}
	r.Host = name
	return r, ""
}

// NormalizeIP is kong.tools.ip.normalize_ip: the parsed address, or the
// error message ("invalid port number", "invalid hostname: <a>", ...).
func NormalizeIP(addr string) (NormalizedHost, string) {
	switch HostnameType(addr) {
	case "ipv6":
		return NormalizeIPv6(addr)
	case "ipv4":
		return NormalizeIPv4(addr)
	}
	return CheckHostname(addr)
}

func validHost(host string) (bool, string) {
	res, err := NormalizeIP(host)
	if err != "" && err != msgInvalidPort {
		return false, "invalid value: " + host
	}
	if err == msgInvalidPort || res.HasPort {
		return false, "must not have a port"
	}
	return true, ""
}

func validHostWithOptionalPort(host string) (bool, string) {
	if _, err := NormalizeIP(host); err != "" {
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
	res, err := NormalizeIP(host)
	if err != "" && err != msgInvalidPort {
		return false, "invalid value: " + host
	}
	if err == "" && res.Type != "name" {
		return false, "must not be an IP"
	}
	if err == msgInvalidPort || res.HasPort {
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
func IsValidIPv4(s string) bool       { return parseIPv4(s) }
func IsValidIPv6(s string) bool       { return parseIPv6(s) }
func IsValidIP(s string) bool         { return parseIPv4(s) || parseIPv6(s) }
func IsValidCIDRv4(s string) bool     { return cidrOK(s, parseIPv4, 32) }
func IsValidCIDRv6(s string) bool     { return cidrOK(s, parseIPv6, 128) }
func IsValidCIDR(s string) bool       { return IsValidCIDRv4(s) || IsValidCIDRv6(s) }
func IsValidIPOrCIDRv4(s string) bool { return parseIPv4(s) || IsValidCIDRv4(s) }
func IsValidIPOrCIDRv6(s string) bool { return parseIPv6(s) || IsValidCIDRv6(s) }
func IsValidIPOrCIDR(s string) bool   { return IsValidIP(s) || IsValidCIDR(s) }

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
	if IsValidIPOrCIDRv4(s) {
		return true, ""
	}
	return false, "invalid ipv4 cidr range: '" + s + "'"
}
