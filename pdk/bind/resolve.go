package bind

import (
	"context"
	"errors"
	"net"
	"strings"
)

// Resolver resolves a cosocket's host name to one address (Kong's toip):
// p is port, or an SRV record's port in its place. The host sets the
// node's DNS client as pdk.Root.Resolve, so that dns_resolver,
// dns_hostsfile, dns_order and spec.helpers' dns_mock apply to ngx.socket,
// resty.http and resty.redis as they do to the Services' hosts. An error
// with a TryList method (dnsclient.Error) gives Kong's try list.
type Resolver func(ctx context.Context, name string, port int) (ip string, p int, err error)

// Peer is what Kong's globalpatches puts in front of every cosocket's
// connect (tcp's connect, udp's setpeername, and so the libraries built on
// them): a host that is not an IP address is resolved by the node's DNS
// client, and the connection made to the address (and port) it gives. A
// failure is Kong's "[cosocket] DNS resolution failed: <err>. Tried: <try
// list>", returned as msg. A nil Resolver leaves the name as it is (Go's
// resolver then resolves it when dialing).
func (r Resolver) Peer(ctx context.Context, host string, port int) (string, int, string) {
	if r == nil || IsIPLiteral(host) {
		// Kong resolves literals too; toip gives them back as they are
		return host, port, ""
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ip, p, err := r(ctx, host, port)
	if err != nil {
		tried := "nil"
		var tl interface{ TryList() string }
		if errors.As(err, &tl) {
			tried = tl.TryList()
		}
		return "", 0, "[cosocket] DNS resolution failed: " + err.Error() + ". Tried: " + tried
	}
	return ip, p, ""
}

// IsIPLiteral reports whether host is an IPv4 or IPv6 address (the latter
// in brackets or not).
func IsIPLiteral(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return net.ParseIP(host) != nil
}
