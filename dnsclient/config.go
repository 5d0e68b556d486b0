package dnsclient

import (
	"bufio"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the client's configuration: kong.conf's dns_* properties and
// what Kong's client reads from resolv.conf. Its zero value is not Kong's
// defaults (a zero TTL is a valid setting); start from DefaultConfig.
type Config struct {
	// Nameservers are dns_resolver's entries ("ip", "ip:port",
	// "[ipv6]:port"; port 53 by default). None: resolv.conf's.
	Nameservers []string
	// ResolvConf is the resolv.conf read for nameservers, search, ndots,
	// timeout, attempts and rotate ("": /etc/resolv.conf; a missing file
	// is logged and skipped, as in Kong).
	ResolvConf string
	// HostsFile is dns_hostsfile ("": /etc/hosts), read once.
	HostsFile string
	// Order is dns_order: LAST, SRV, A, AAAA, CNAME (nil: the client's
	// own default, LAST,SRV,A,AAAA,CNAME; kong.conf's is LAST,SRV,A,CNAME).
	Order []string
	// ValidTTL is dns_valid_ttl: when >= 0 it replaces every answer's
	// TTL; negative: the answers' own (Kong's unset).
	ValidTTL time.Duration
	// StaleTTL is dns_stale_ttl: how long past its TTL a record is still
	// served while it is being refreshed.
	StaleTTL time.Duration
	// NotFoundTTL is dns_not_found_ttl, for empty answers and "name
	// error" (3); ErrorTTL is dns_error_ttl, for the other errors.
	NotFoundTTL, ErrorTTL time.Duration
	// CacheSize is dns_cache_size, the most entries cached (<= 0: 10000).
	CacheSize int
	// NoSync is dns_no_sync: each cache miss makes its own query instead
	// of waiting for one in flight for the same name and type.
	NoSync bool

	// Timeout bounds one attempt and Attempts is how many are made, each
	// to the next nameserver (0: resolv.conf's options, else 2 s and 5,
	// lua-resty-dns's defaults).
	Timeout  time.Duration
	Attempts int
	// Search and Ndots expand short names as resolv.conf's search (or
	// domain) and ndots do (nil, 0: resolv.conf's; ndots 1 by default).
	// Set Search to an empty, non-nil slice for no search.
	Search []string
	Ndots  int

	// Mock answers queries before the nameservers (spec.helpers'
	// dns_mock; nil: none).
	Mock *Mock

	// Now is the clock (nil: time.Now); tests move it by hand.
	Now func() time.Time
	// Logger receives what Kong's client logs (nil: nothing).
	Logger Logger
}

// Logger is what the client logs through (slog.Logger has it).
type Logger interface {
	Warn(msg string, args ...any)
}

// DefaultConfig is Kong's defaults (kong.conf.default's DNS RESOLVER
// section).
func DefaultConfig() Config {
	return Config{
		Order:       []string{"LAST", "SRV", "A", "CNAME"},
		ValidTTL:    -1,
		StaleTTL:    3600 * time.Second,
		NotFoundTTL: 30 * time.Second,
		ErrorTTL:    time.Second,
		CacheSize:   10000,
	}
}

// orderNames are the entries dns_order accepts.
var orderNames = map[string]uint16{"LAST": typeLast, "SRV": TypeSRV, "A": TypeA, "AAAA": TypeAAAA, "CNAME": TypeCNAME}

// ValidOrderEntry reports whether s is a dns_order entry (any case).
func ValidOrderEntry(s string) bool {
	_, ok := orderNames[strings.ToUpper(s)]
	return ok
}

// ParseNameserver reads a dns_resolver entry as Kong's normalize_ip does
// (an IPv4 or IPv6 address, with an optional port; not a name), giving
// "ip:port" with port 53 when none is given.
func ParseNameserver(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if hostnameType(s) == "name" {
		return "", false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return "", false
	}
	return netip.AddrPortFrom(a, 53).String(), true
}

// hostnameType is Kong's hostname_type: by exclusion, not validation —
// "ipv6" with more than one colon, "ipv4" for digits and dots, else
// "name".
func hostnameType(s string) string {
	colons := 0
	digits := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			colons++
		case c == '.' || c >= '0' && c <= '9':
		default:
			digits = false
		}
	}
	if colons > 1 {
		return "ipv6"
	}
	if digits && len(s) > colons {
		return "ipv4"
	}
	return "name"
}

// IsName reports whether host is a name to resolve rather than an IP
// literal, by Kong's hostname_type.
func IsName(host string) bool { return hostnameType(host) == "name" }

// resolvConf is what Kong's client takes from resolv.conf (and the
// LOCALDOMAIN and RES_OPTIONS variables).
type resolvConf struct {
	nameservers []string
	search      []string
	ndots       int
	timeout     int // seconds
	attempts    int
	rotate      bool
}

// readResolvConf parses a resolv.conf as Kong's utils.parseResolvConf
// and applyEnv do: at most 3 nameservers and 6 search domains, domain and
// search exclusive (the last wins), options ndots, timeout, attempts,
// rotate; comments after # or ;.
func readResolvConf(path string, getenv func(string) string) (*resolvConf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rc := &resolvConf{}
	var domain string
	hasDomain := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if len(rc.nameservers) < 3 {
				rc.nameservers = append(rc.nameservers, strings.ToLower(strings.Join(fields[1:], " ")))
			}
		case "domain":
			domain, hasDomain, rc.search = strings.ToLower(fields[1]), true, nil
		case "search":
			hasDomain, rc.search = false, nil
			for _, d := range fields[1:] {
				if len(rc.search) < 6 {
					rc.search = append(rc.search, strings.ToLower(d))
				}
			}
		case "options":
			for _, o := range fields[1:] {
				rc.option(o)
			}
		}
	}
	if hasDomain {
		rc.search = []string{domain}
	}
	if v := getenv("LOCALDOMAIN"); v != "" {
		rc.search = nil
		for _, d := range strings.Fields(v) {
			rc.search = append(rc.search, strings.ToLower(d))
		}
	}
	for _, o := range strings.Fields(getenv("RES_OPTIONS")) {
		rc.option(o)
	}
	return rc, sc.Err()
}

func (rc *resolvConf) option(o string) {
	name, val, _ := strings.Cut(o, ":")
	n, err := strconv.Atoi(val)
	switch {
	case name == "rotate" && val == "":
		rc.rotate = true
	case name == "ndots" && err == nil:
		rc.ndots = n
	case name == "timeout" && err == nil:
		rc.timeout = n
	case name == "attempts" && err == nil:
		rc.attempts = n
	}
}

// hostsEntry is a name's addresses in the hosts file.
type hostsEntry struct{ ipv4, ipv6 string }

// readHosts parses a hosts file as Kong's utils.parseHosts does: lower
// case, comments after # or ;, the first address of each family a name
// is given wins.
func readHosts(path string) (map[string]*hostsEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]*hostsEntry{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.ToLower(sc.Text())
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(fields[0], "["), "]"))
		if err != nil {
			continue
		}
		for _, name := range fields[1:] {
			e := out[name]
			if e == nil {
				e = &hostsEntry{}
				out[name] = e
			}
			switch {
			case a.Is4() && e.ipv4 == "":
				e.ipv4 = a.String()
			case a.Is6() && e.ipv6 == "":
				e.ipv6 = a.String()
			}
		}
	}
	return out, sc.Err()
}
