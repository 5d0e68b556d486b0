// Package router is Kong's router for the proxy, with the semantics of
// router_flavor = traditional_compatible (Kong 3.x kong/router/compat.lua,
// atc.lua, transform.lua, utils.lua): which Route answers a request, and the
// upstream URI, host and scheme the request is sent on with.
//
// It is pure Go: it must not import gopher-lua, host/ or pdk/, and its core
// (everything but kongdb_row.go) does not import kongdb either. A Router is
// immutable once built by New; Versioned swaps a rebuilt one in atomically, so
// the request path never takes a lock.
//
// How a Router decides, in Kong's order:
//
//   - Routes whose protocols have no HTTP-subsystem protocol (tcp, tls, udp,
//     tls_passthrough only) are left out, as are Routes whose Service is
//     disabled; a Route without a Service stays (the proxy answers 503).
//   - A Route whose paths mix regexes and prefixes of different lengths is
//     split into one matcher per group (all regexes / each prefix length), each
//     with its own priority (transform.lua split_routes_and_services_by_path).
//   - Matchers are tried by descending priority (number of non-empty fields
//     among sources, destinations, methods, hosts, headers, snis, paths; then
//     "plain hosts only"; then the header count; then "has regex paths"; then
//     regex_priority for regex routes; then the prefix length), ties broken by
//     descending route id, as the ATC router's BTreeMap iterated in reverse.
//   - The first matcher whose every field matches wins. Protocols are not part
//     of matching: the proxy checks them afterwards (Match.HTTPSRedirectStatus).
package router
