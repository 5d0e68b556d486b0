// Package proxy is luahost's proxy listener and upstream client, on
// fasthttp: it routes each request with a router.Versioned, answers what
// Kong's runloop answers itself (404 no Route, 503 no Service, 426 or a
// redirect to https, Kong's error bodies for malformed requests and failed
// upstreams), and forwards the rest to the Service's host with the headers
// Kong's nginx template and runloop set (X-Forwarded-*, X-Real-IP, Via,
// X-Kong-Request-Id, Host) and Kong's response headers (Via, Server,
// X-Kong-*-Latency, X-Kong-Request-Id).
//
// Plugins hook in through Phases (rewrite, access, header_filter,
// body_filter, log), called with a pooled per-request Context; a nil Phases
// runs none. The package imports router and fasthttp only: no Lua, no
// kongdb (the caller rebuilds the router, see Rebuilder).
//
// Where it differs from Kong, and why:
//
//   - Only the http upstream protocol is proxied; a Service with another
//     protocol (https, grpc, grpcs, ws, wss) is answered 502 and logged.
//     No TLS, HTTP/2 or WebSocket listener or upstream yet.
//   - No balancer: the Service's host is resolved by the dialer (no
//     Upstream entities, targets, health checks or hash cookies).
//   - Retries: Kong's nginx retries (proxy_next_upstream error timeout) on
//     connection errors and on timeouts before the response header; here a
//     retry happens only when the connection could not be made (refused,
//     connect timeout) or a reused keep-alive connection was closed before
//     any response byte, never after a read timeout, so a hung upstream
//     costs one read_timeout, not retries+1 of them.
//   - read_timeout bounds the whole response header and body read
//     (fasthttp), where nginx bounds the time between two reads.
//   - Request and response bodies are buffered whole (fasthttp), as with
//     Kong's request_buffering/response_buffering on (the defaults).
//   - client_max_body_size 0 (Kong's default: unlimited) is capped at
//     2 GiB, fasthttp's int limit being what it reads into memory.
//   - The request line and headers are bounded as a whole (32 KiB, nginx's
//     4 x 8k large_client_header_buffers); past it the answer is Kong's 400
//     "Request header or cookie too large". nginx also bounds each line to
//     8 KiB and answers a longer request line 414 "URI too long".
//   - Phases.Log runs when the response is ready, just before fasthttp
//     writes it (fasthttp has no hook after the write); Kong's log phase
//     runs after the response is sent.
//   - The upstream request is the client's, rewritten in place: after
//     Access, Context.RequestCtx.Request holds the upstream URI and headers
//     (OriginalURI and OriginalHost keep the client's), where nginx keeps
//     ngx.req and the proxied request apart.
//   - proxy_listen's backlog= is accepted and not applied (Go's listen uses
//     the system's somaxconn); reuseport is applied (Linux).
package proxy
