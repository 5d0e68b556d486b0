package ngx

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/luahost/luahost/dnsclient"
)

// Resolver resolves a cosocket's host name to one address (Kong's toip):
// p is port, or an SRV record's port in its place. The host sets the node's
// DNS client here (pdk.Root.Resolve), so that dns_resolver, dns_hostsfile,
// dns_order and spec.helpers' dns_mock apply to ngx.socket as they do to
// the Services' hosts.
type Resolver func(ctx context.Context, name string, port int) (ip string, p int, err error)

// resolvePeer is what Kong's globalpatches puts in front of tcp's connect
// and udp's setpeername: a host that is not an IP address is resolved by
// the node's DNS client and the connection made to the address (and port)
// it gives. A failure is Kong's "[cosocket] DNS resolution failed: <err>.
// Tried: <try list>", returned as msg. Without a resolver (env.Resolve nil)
// the name is left to Go's resolver when dialing.
func (env *SocketEnv) resolvePeer(ctx context.Context, host string, port int) (string, int, string) {
	if env.Resolve == nil || isIPLiteral(host) {
		// Kong resolves literals too; toip gives them back as they are
		return host, port, ""
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ip, p, err := env.Resolve(ctx, host, port)
	if err != nil {
		tried := "nil"
		var de *dnsclient.Error
		if errors.As(err, &de) {
			tried = de.Tried
		}
		return "", 0, "[cosocket] DNS resolution failed: " + err.Error() + ". Tried: " + tried
	}
	return ip, p, ""
}

// isIPLiteral reports whether host is an IPv4 or IPv6 address (the latter
// in brackets or not).
func isIPLiteral(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return net.ParseIP(host) != nil
}
