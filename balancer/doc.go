// Package balancer is Kong's ring-balancer (kong/runloop/balancer): the
// Upstream entities a Service's host may name, balanced over their targets
// with the upstream's algorithm (round-robin, consistent-hashing,
// least-connections, latency), the targets' names resolved by Kong's DNS
// client (package dnsclient: A, AAAA and SRV records, re-resolved on their
// TTL), and the passive and active health checks of lua-resty-healthcheck
// as Kong configures them.
//
// It reads upstreams and targets as plain rows (map[string]any, as kongdb
// returns them) and depends on nothing else of luahost but dnsclient: no
// Lua, no kongdb, no proxy. The proxy asks a Registry for the Balancer of a host name and
// calls Pick for each try, Report with each try's outcome and Release when
// the request is done; the Admin API reads Health and BalancerHealth and
// calls PostHealth.
//
// The request path takes no global lock: the Registry is an atomic map
// replaced whole on rebuild; a round-robin pick is an atomic counter over
// an immutable wheel; health is an atomic flag per address. Health
// counters take a lock per address, latency scores one per balancer.
package balancer
