// Package proxy is luahost's proxy listener and upstream client, on
// fasthttp: it routes each request with a router.Versioned, answers what
// Kong's runloop answers itself (404 no Route, 503 no Service, 426 or a
// redirect to https, 415/426 on a grpc Route, Kong's error bodies for
// malformed requests and failed upstreams; to a gRPC client over HTTP/2
// as grpc-status and grpc-message, grpc_answers.go), and forwards the rest to the Service's host with the headers
// Kong's nginx template and runloop set (X-Forwarded-*, X-Real-IP, Via,
// X-Kong-Request-Id, Host) and Kong's response headers (Via, Server,
// X-Kong-*-Latency, X-Kong-Request-Id).
//
// Plugins hook in through Phases (rewrite, access, response,
// header_filter, body_filter, log), called with a pooled per-request
// Context; a nil Phases runs none. The certificate phase runs in each TLS
// handshake of an ssl listener, through Config.Certificate (handshake.go). The package imports router and fasthttp
// only: no Lua, no kongdb (the caller rebuilds the router, see Rebuilder,
// and resolves certificates, see Config).
//
// Bodies (body.go): the client's request body is read whole before the
// upstream is called and sent with its length when the Route has
// request_buffering (Kong's default), else it goes to the upstream as it
// arrives unless a plugin read it (Context.RequestBody); the upstream's
// response goes to the client as it arrives, through BodyFilter chunk by
// chunk, unless Access asked for it whole (Context.BufferResponse). Log
// runs after the response is written (logconn.go says how, fasthttp having
// no hook for it).
//
// Where it differs from Kong, and why:
//
//   - Upstream protocols: http and https on fasthttp; grpc and grpcs over
//     HTTP/2 through net/http's transport (grpc.go: both ways streamed,
//     trailers passed to HTTP/2 clients). A Service with ws or wss
//     (Kong Enterprise's) is answered 502 and the reason logged. ssl
//     entries serve TLS (tls.go), http2 entries HTTP/2 besides HTTP/1.x,
//     through net/http (h2.go).
//   - WebSocket upgrades on http/https Routes are tunnelled as nginx does
//     (tunnel.go); Shutdown closes open tunnels once in-flight requests
//     are done, where nginx keeps them through a graceful quit.
//   - https upstreams: verification, SNI and client certificate as Kong 3
//     sets them per Service; the CA store and the client certificate are
//     resolved once per connection pool (a changed ca_certificates or
//     certificates entity is not seen by an existing pool); Upstream
//     entities' client_certificate does not apply.
//   - The ring-balancer (Config.Balancer, package balancer): a Service
//     whose host names an Upstream entity goes to the address the
//     balancer picks, a retry to the next one (balance.go); 503 "failure
//     to get a peer from the ring-balancer" when none is healthy. Another
//     host is resolved by the dialer, as Kong's DNS client would.
//   - Retries: Kong's nginx retries (proxy_next_upstream error timeout) on
//     connection errors and on timeouts before the response header; here a
//     retry happens only when the connection could not be made (refused,
//     connect timeout) or a reused keep-alive connection was closed before
//     any response byte (not for a streamed request body), never after a
//     read timeout, so a hung upstream costs one read_timeout, not
//     retries+1 of them.
//   - A Route without request_buffering streams the request body, as
//     nginx's proxy_request_buffering off does, but passes a chunked body's
//     trailer fields on (nginx drops them); with it, a body is buffered in
//     memory up to client_body_buffer_size and in a temporary file beyond,
//     as nginx does, and the Trailer header announcing the dropped trailer
//     fields is dropped too (nginx passes it). client_max_body_size is
//     answered 413 from the Content-Length before any phase, or when a
//     chunked body goes past it. A body of up to 8 KiB with a
//     Content-Length is read before the handler runs and sent whole.
//   - Response bodies are streamed without buffering them whole, whatever
//     the Route's response_buffering (nginx's proxy_buffering only changes
//     how nginx reads the upstream; $kong_proxy_mode, which a plugin can
//     read, follows it); a body with a Content-Length is written through
//     fasthttp's 4 KiB buffer, so its bytes reach the client by 4 KiB (a
//     chunked one is flushed chunk by chunk), and the headers of a body up
//     to 4 KiB go out with it. On an upstream failure mid-body the client's
//     connection is closed, as nginx does, possibly with the last buffered
//     bytes (and, for a small body, the headers) unsent.
//   - A BodyFilter that changes a streamed body's length must clear
//     Content-Length in HeaderFilter (as Kong plugins do); otherwise the
//     connection is closed when the length does not match.
//   - client_max_body_size 0 (Kong's default: unlimited) is capped at
//     2 GiB, fasthttp's int limit being what it reads into memory.
//   - The request line and headers are bounded as a whole (32 KiB, nginx's
//     4 x 8k large_client_header_buffers); past it the answer is Kong's 400
//     "Request header or cookie too large", as it is to a header line longer
//     than 8 KiB (a longer request line: 414 "URI too long"). As nginx, a
//     TRACE request is answered 405 before any phase.
//   - Log runs after the response is written to the connection (see
//     logconn.go), except for pipelined requests, whose response fasthttp
//     may hold back until the next one; on a connection closed after the
//     response, Log sees a copy of the request and of the response headers
//     (not the response body, which Kong's log phase has no access to
//     either).
//   - With plugins, a chunked request body no plugin read and that was not
//     proxied (a plugin answered) makes the connection close after the
//     response, where nginx reads and drops the body and keeps it open.
//   - Malformed requests (fasthttp's ErrorHandler) run HeaderFilter,
//     BodyFilter and Log, not Rewrite.
//   - The upstream request is the client's, rewritten in place: after
//     Access, Context.RequestCtx.Request holds the upstream URI and headers
//     (OriginalURI and OriginalHost keep the client's), where nginx keeps
//     ngx.req and the proxied request apart.
//   - proxy_listen's backlog= is accepted and not applied (Go's listen uses
//     the system's somaxconn); reuseport is applied (Linux).
package proxy
