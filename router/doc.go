// Package router is Kong's router for the proxy, with the semantics of
// router_flavor = traditional_compatible (Kong 3.x kong/router/compat.lua,
// atc.lua, transform.lua, utils.lua): which Route answers a request, and the
// upstream URI, host and scheme the request is sent on with.
//
// It is pure Go and imports no other luahost package (no gopher-lua, host/,
// pdk/, nor kongdb: kongdb_row.go reads kongdb's row form, plain maps, without
// importing it; deps_test.go keeps it so). A Router is
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
//
// Kong behaviours kept although they look odd: hosts compare case-sensitively
// (the Host header is not lower-cased); a regex path gets "^" put in front,
// so "~/a|/b" anchors only its first branch and stripping then cuts by the
// length of the match; a "~*" header regex is lower-cased, pattern included;
// path_handling "v1" is ignored (WithPathHandlingV1 restores the traditional
// router's v1; WithTraditional that and its created_at tie-break).
//
// Where this package differs from Kong, and why:
//
//   - Regexes: Kong's compat router compiles paths with Rust's regex crate
//     (no lookaround or backreferences; Unicode \d \w \s). Here Go's regexp
//     is used when it compiles the pattern and regexp2 (PCRE-like) otherwise,
//     both with ASCII classes, so patterns Kong would reject are accepted.
//   - Priority: Kong shifts its plain-number terms with LuaJIT's 32-bit
//     bit.lshift (see priority.go), which folds weights 4-7 together and lets a
//     negative or large regex_priority outrank everything; the documented
//     layout is used instead.
//   - Kong's ATC also copies the groups of header regexes into uri_captures;
//     here uri_captures only ever hold the path's groups.
//   - Invalid UTF-8: Kong answers 404 when any value it feeds the ATC router
//     (path, host, every header some route uses) is not UTF-8; here the path
//     and the Host do that, and a bad header value only fails that header.
//   - No match cache: Kong puts an LRU in front of the router; Match is fast
//     enough without one (see bench_test.go).
//   - An empty hosts list does not set the "plain hosts" priority bit (Kong
//     sets it for any hosts table, even empty); IPv4-mapped IPv6 client
//     addresses are compared as IPv4.
package router
