package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// Listener is one entry of Kong's proxy_listen.
type Listener struct {
	Addr      string // host:port, as net.Listen takes it ("[::1]:8000" for IPv6)
	SSL       bool
	HTTP2     bool
	ReusePort bool
	Backlog   int // 0: the system's
	// Flags are the other flags given (proxy_protocol, deferred, bind,
	// ipv6only=..., so_keepalive=...), accepted and not acted on.
	Flags []string
}

// listenUsage is Kong's message for a proxy_listen it cannot parse
// (kong/conf_loader/listeners.lua).
const listenUsage = "must be of form: [off] | <ip>:<port> [ssl] [http2] [proxy_protocol] [deferred] [bind] " +
	"[reuseport] [backlog=%d+] [ipv6only=on] [ipv6only=off] [so_keepalive=on] [so_keepalive=off] " +
	"[so_keepalive=%w*:%w*:%d*], [... next entry ...]"

// ListenError is a proxy_listen value Kong would refuse.
type ListenError struct {
	Name, Value string
}

func (e *ListenError) Error() string {
	return e.Name + " " + listenUsage + " (got \"" + e.Value + "\")"
}

// ParseListen parses a *_listen value as Kong does: comma-separated
// entries "<ip>:<port> [flags]", or "off" (no listener). name is the
// property's name, for the error.
func ParseListen(name, value string) ([]Listener, error) {
	var entries []string
	for _, e := range strings.Split(value, ",") {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil, &ListenError{name, value}
	}
	if entries[0] == "off" {
		return nil, nil
	}
	var out []Listener
	for _, e := range entries {
		fields := strings.Fields(e)
		l := Listener{}
		var addr string
		for _, f := range fields {
			switch {
			case f == "ssl":
				l.SSL = true
			case f == "http2":
				l.HTTP2 = true
			case f == "reuseport":
				l.ReusePort = true
			case strings.HasPrefix(f, "backlog="):
				n, err := strconv.Atoi(f[len("backlog="):])
				if err != nil || n < 0 {
					return nil, &ListenError{name, value}
				}
				l.Backlog = n
			case f == "proxy_protocol", f == "deferred", f == "bind", f == "ipv6only=on", f == "ipv6only=off",
				f == "so_keepalive=on", f == "so_keepalive=off", strings.HasPrefix(f, "so_keepalive="):
				l.Flags = append(l.Flags, f)
			default:
				if addr != "" {
					return nil, &ListenError{name, value}
				}
				addr = f
			}
		}
		a, ok := listenAddr(addr)
		if !ok {
			return nil, &ListenError{name, value}
		}
		l.Addr = a
		out = append(out, l)
	}
	return out, nil
}

// listenAddr checks "<ip>:<port>" (IPv6 in brackets) or "<name>:<port>".
func listenAddr(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), true
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", false
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", false
	}
	if strings.ContainsAny(host, " /[]") {
		return "", false
	}
	return net.JoinHostPort(host, port), true
}

// listenTCP binds entry l's address (SO_REUSEPORT when flagged).
func listenTCP(l Listener) (net.Listener, error) {
	lc := net.ListenConfig{}
	if l.ReusePort {
		lc.Control = reusePort
	}
	return lc.Listen(context.Background(), "tcp", l.Addr)
}

// Bind binds entry l for a server other than the proxy (the Admin API,
// status_listen): TCP, SO_REUSEPORT when flagged, and on an ssl entry TLS
// with conf (ServerTLSConfig's; on an "http2 ssl" entry H2TLSConfig's of
// it, ALPN h2 first). An ssl entry without conf is an error. Serve an
// http2 entry's listener through H2Split.
func Bind(l Listener, conf *tls.Config) (net.Listener, error) {
	if l.SSL && conf == nil {
		return nil, errors.New(l.Addr + " ssl: no certificates configured")
	}
	ln, err := listenTCP(l)
	if err != nil {
		return nil, err
	}
	if l.SSL {
		if l.HTTP2 {
			conf = H2TLSConfig(conf)
		}
		ln = tls.NewListener(ln, conf)
	}
	return ln, nil
}

// CloseOnce is ln closed at most once: a later Close returns the first's
// result. A server's Shutdown closes its listeners before fasthttp's
// shutdown, which closes them again and would report the second Close's
// error ("use of closed network connection").
func CloseOnce(ln net.Listener) net.Listener { return &onceListener{Listener: ln} }

type onceListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
