// Package request binds the request-bound part of Kong's PDK and of
// OpenResty's ngx.* to a worker: kong.request, kong.response, kong.service
// (.request, .response), kong.client, kong.router, kong.nginx, kong.ip,
// kong.log.serialize / set_serialize_value, and ngx.var, ngx.req,
// ngx.header, ngx.status, ngx.arg, ngx.resp, ngx.say/print/flush/exit/redirect,
// ngx.location. They read and write the request the proxy is serving (a
// *proxy.Context) through a State, one per worker. It depends on pdk and
// proxy, never on host.
//
// The host drives a State, per request: Instance.SetCtx (a fresh ngx.ctx),
// then Begin; SetPhase at every phase the request goes through, also when
// no plugin runs in it, since the State does Kong's own work there (the
// first PhaseAccess fills ngx.ctx.route, service and router_matches; the
// first phase after the upstream answered puts back the response headers
// plugins set in rewrite and access; each PhaseBodyFilter call puts in
// the body a header_filter exit produced); Exited after each plugin of
// rewrite and access, to stop the loop once a plugin answered; EndAccess
// when access is over; End after log. A handler's protected call that
// fails with IsExit(err) ended normally (ngx.exit, kong.response.exit). In
// the Admin API (no request, ngx.get_phase() "content"), AdminResponse
// recovers what kong.response.exit produced.
//
// Where this diverges from Kong, and why:
//   - kong.response.exit / error and ngx.exit do not yield or stop nginx:
//     they write the response into the fasthttp response and end the
//     handler with luavm.Unwind (pcall does not catch it); the host stops
//     the phase's remaining plugins on Exited (Kong's delayed_response).
//   - ngx.say / ngx.print buffer into the response body; the response is
//     sent when the phases are over, so ngx.flush does nothing and a plugin
//     that printed in rewrite or access has answered the request (Exited).
//   - Headers a plugin sets on the response in rewrite or access are
//     replayed onto the upstream's response (nginx keeps them in
//     headers_out; the proxy's upstream call replaces the response).
//   - No stream subsystem and no balancer phase for plugins:
//     kong.service.request's enable_tls/disable_tls and set_tls_* answer
//     nil, "not supported". (HTTP/2 clients and gRPC services are served;
//     kong.response.exit/error take Kong's gRPC paths for a gRPC request
//     over HTTP/2.)
//   - kong.client.tls: $ssl_client_verify is computed in Go the way
//     OpenSSL verifies at depth 0 (proxy.Context.ClientVerify); ngx.ssl
//     has no cdata certificates (parse_pem_cert), so the CA list of
//     request_client_certificate comes from resty.openssl.x509.chain only.
//   - kong.service.set_retries / set_timeouts record their values in
//     ngx.ctx.balancer_data; the proxy's upstream call does not read them
//     yet. Upstream entities are not served: set_upstream always answers
//     Kong's "could not find an Upstream named ..." and set_tls_cert_key
//     raises Kong's "chain must be a parsed cdata object" (no cdata here).
//   - A request body that nginx would have buffered to a file is read into
//     memory when a plugin asks for it: get_raw_body never answers
//     "did not fit into client body buffer"; ngx.req.read_body does nothing
//     and ngx.req.get_body_file answers nil.
//   - The PROXY protocol is not served: kong.client.get_forwarded_ip and
//     get_forwarded_port come from the real IP header of a trusted peer
//     (with its port, nil when it gave none, as nginx's realip module).
//   - kong.nginx.get_statistics: total_requests counts the requests this
//     process's workers took; the connection counters are 0 (no equivalent
//     in fasthttp yet).
//   - kong.log.serialize: tries has one entry (hostname and port; no
//     balancer timings), workspace_name "default".
//   - ngx.exit(status) with nothing printed answers Kong's error page for
//     the statuses Kong's nginx template sends to its error handler, and a
//     page in nginx's style naming "kong" for other statuses >= 300.
//   - ngx.location.capture and capture_multi, ngx.req.socket and
//     ngx.req.set_body_file raise "not supported" (the first three in the
//     contexts ngx_lua allows them in; elsewhere its "API disabled in the
//     context of ...", as ngx.req.read_body and the output API raise it).
package request

import (
	"math/bits"
	"strconv"

	"github.com/valyala/fasthttp"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/proxy"
	"github.com/luahost/luahost/router"
)

// Phase is Kong's phase of a request (ctx.KONG_PHASE), what the PDK's
// phase checks compare with.
type Phase uint16

// Kong's phases (kong/pdk/private/phases.lua), as bits so that a set of
// them is one mask. PhaseInit and PhaseTimer are not Kong phases: the PDK
// sees "no phase" there, as Kong does outside its phase handlers.
const (
	PhaseInit Phase = 1 << iota
	PhaseInitWorker
	PhaseCertificate
	PhaseRewrite
	PhaseAccess
	PhaseBalancer
	PhaseResponse
	PhaseHeaderFilter
	PhaseBodyFilter
	PhaseLog
	PhaseTimer
	PhaseAdminAPI
	PhasePreread
	PhaseError
	PhaseClusterListener
)

// ngxPhase is what ngx.get_phase() answers in a Kong phase.
var ngxPhase = map[Phase]string{
	PhaseInit: "init", PhaseInitWorker: "init_worker", PhaseCertificate: "ssl_cert",
	PhaseRewrite: "rewrite", PhaseAccess: "access", PhaseBalancer: "balancer",
	PhaseResponse: "access", PhaseHeaderFilter: "header_filter", PhaseBodyFilter: "body_filter",
	PhaseLog: "log", PhaseTimer: "timer", PhaseAdminAPI: "content", PhasePreread: "preread",
	PhaseError: "content", PhaseClusterListener: "content",
}

// kongPhaseValue is Kong's numeric value of a phase (ngx.ctx.KONG_PHASE).
var kongPhaseValue = map[Phase]int{
	PhaseInitWorker: 0x1, PhaseCertificate: 0x2, PhaseRewrite: 0x10, PhaseAccess: 0x20,
	PhaseBalancer: 0x40, PhaseResponse: 0x80, PhaseClusterListener: 0x100,
	PhaseHeaderFilter: 0x200, PhaseBodyFilter: 0x400, PhaseLog: 0x2000, PhasePreread: 0x4000,
	PhaseError: 0x01000000, PhaseAdminAPI: 0x10000000,
}

// phaseInfo is what SetPhase writes for a one-bit phase, indexed by the
// bit: ngxPhase's string and kongPhaseValue's number as a Lua value made
// once (a map lookup and an allocation less per phase of every request).
var phaseInfo [16]struct {
	ngx  string
	kong lua.LValue
}

func init() {
	for p, name := range ngxPhase {
		i := bits.TrailingZeros16(uint16(p))
		phaseInfo[i].ngx = name
		phaseInfo[i].kong = lua.LNumber(kongPhaseValue[p])
	}
}

// phaseValues is ngx.get_phase()'s answer and ngx.ctx.KONG_PHASE for p.
func phaseValues(p Phase) (string, lua.LValue) {
	if bits.OnesCount16(uint16(p)) == 1 {
		if e := &phaseInfo[bits.TrailingZeros16(uint16(p))]; e.kong != nil {
			return e.ngx, e.kong
		}
	}
	return ngxPhase[p], lua.LNumber(kongPhaseValue[p])
}

// State is one worker's request binding. Its per-request part is a Req:
// a worker interleaves the phases of several requests (it is free between
// two phases of a request, notably during the upstream call), so the host
// Attaches the request's Req before each phase and Detaches it after; the
// fields of the bound Req are promoted, so the bindings read s.c, s.phase
// ... as their request's.
type State struct {
	*Req
	// idle is the Req bound while no request is attached (c nil: timers,
	// worker events, the Admin API).
	idle Req

	in *pdk.Instance
	L  *lua.LState

	trusted []netipPrefix
	// kong.conf's lua_max_req_headers, lua_max_resp_headers,
	// lua_max_uri_args, lua_max_post_args: the default limits
	maxReqHeaders, maxRespHeaders, maxURIArgs, maxPostArgs int
	routes                                                 map[*router.Route]*lua.LTable
	services                                               map[*router.Service]*lua.LTable
	// wsID, wsVal: the last workspace id set as ngx.ctx.workspace, boxed
	wsID  string
	wsVal lua.LValue

	admin     fasthttp.Response // kong.response.exit outside a request (Admin API)
	hsPrev    string            // ngx.get_phase()'s answer before BeginHandshake
	hdrMT     *lua.LTable       // request/response header tables' metatable
	srespMeta *lua.LTable       // kong.service.response.get_headers' (non-buffered)
	// values: header values handed to Lua lately, boxed once (str)
	values luavm.Strings
	// scratch buffers of one binding call (never kept across a phase)
	scratch  []byte
	vals     []string // headerValues' result, reused
	delSpans [][2]int // delHeader's scratch
	delBuf   []byte
}

// Req is one request's part of a State: what the request PDK keeps for it
// from Begin to End. It holds no Lua value, so it may be attached to
// whichever worker the request is pinned to. NewReq makes one; keep it
// for reuse (Begin resets it).
type Req struct {
	c     *proxy.Context
	phase Phase
	// hs: the TLS handshake whose certificate phase runs (c is nil then)
	hs *proxy.Handshake
	// exited: the response was produced by a plugin (kong.response.exit,
	// kong.response.error, ngx.exit, ngx.redirect, ngx.say) in this request.
	exited bool
	// sent: ngx.say/print wrote the body (ngx.headers_sent).
	sent bool
	// accessed: access.before ran (ngx.ctx.route, service, router_matches).
	accessed bool
	// socks: the cosockets the request connected and left open, closed
	// at End (Quiet is false while there are any)
	socks bind.Cosockets
	// upstream response as it came, before header_filter plugins changed it
	upSeen   bool
	upStatus int
	upHdr    fasthttp.ResponseHeader
	upBody   []byte
	// pending response header writes made in rewrite/access, replayed on
	// the upstream's response
	pending []hdrOp
	// per-request caches of $request_uri and kong.request.get_path()
	uriStr, pathRaw, path, hostStr    string
	uriCached, pathCached, hostCached bool
	// uriSet: ngx.req.set_uri changed $uri
	uri    string
	uriSet bool
	// extra ngx.var values (Kong's template variables written by plugins)
	vars map[string]string
	// bodyBuf: kong.response.get_raw_body's chunks across body_filter calls
	bodyBuf  []byte
	bodyBuff bool

	snap    fasthttp.RequestHeader
	snapped bool
	// statusSet: a status was set in rewrite/access (ngx.status reads 0
	// before, as nginx's)
	statusSet bool
	// respBody: kong.response.exit in header_filter (ctx.response_body)
	respBody          []byte
	bodySet, bodyDone bool
}

// NewReq returns an empty per-request part for Attach.
func NewReq() *Req { return &Req{} }

// Attach binds r, a request's part, to s: the bindings serve r's request
// until Detach. The host attaches a request's Req before each of its
// phases (and before Begin).
func (s *State) Attach(r *Req) {
	s.Req = r
	s.in.SwitchCosockets(&r.socks)
	if r.c != nil {
		s.in.RequestID = r.c.RequestID // every line the phase logs names the request
	}
}

// Detach unbinds the attached request (after one of its phases): the
// bindings see no request until the next Attach.
func (s *State) Detach() {
	s.Req = &s.idle
	s.in.SwitchCosockets(nil)
	s.in.RequestID = ""
}

// Open installs the request-bound namespaces into a worker's instance and
// returns the worker's State.
func Open(in *pdk.Instance) *State {
	s := &State{in: in, L: in.L}
	s.Req = &s.idle
	s.trusted = confTrusted(in)
	s.maxReqHeaders, s.maxRespHeaders = confMax(in, "lua_max_req_headers"), confMax(in, "lua_max_resp_headers")
	s.maxURIArgs, s.maxPostArgs = confMax(in, "lua_max_uri_args"), confMax(in, "lua_max_post_args")
	s.routes = map[*router.Route]*lua.LTable{}
	s.services = map[*router.Service]*lua.LTable{}
	L := in.L
	s.hdrMT = L.NewTable()
	s.hdrMT.RawSetString("__index", L.NewFunction(headerIndex))

	kong, _ := L.GetGlobal("kong").(*lua.LTable)
	if kong == nil {
		kong = L.NewTable()
		L.SetGlobal("kong", kong)
	}
	kong.RawSetString("request", s.newKongRequest())
	kong.RawSetString("response", s.newKongResponse())
	kong.RawSetString("service", s.newKongService())
	kong.RawSetString("client", s.newKongClient())
	kong.RawSetString("router", s.newKongRouter())
	kong.RawSetString("nginx", s.newKongNginx())
	kong.RawSetString("ip", s.newKongIP())
	// in every kong.log facility, the plugins' and kong.log.new's too
	in.SetKongLogField("serialize", L.NewFunction(s.serialize))
	in.SetKongLogField("set_serialize_value", L.NewFunction(s.setSerializeValue))

	ngx, _ := L.GetGlobal("ngx").(*lua.LTable)
	if ngx == nil {
		ngx = L.NewTable()
		L.SetGlobal("ngx", ngx)
	}
	s.openNgx(ngx)
	s.openNgxSSL()
	return s
}

// Begin binds s to the request c; the phase is PhaseRewrite until
// SetPhase.
func (s *State) Begin(c *proxy.Context) { s.BeginAt(c, PhaseRewrite) }

// BeginAt is Begin then SetPhase(p), setting ngx.ctx.KONG_PHASE once (the
// host starts a request at its first phase with a plugin to run).
func (s *State) BeginAt(c *proxy.Context, p Phase) {
	s.trim()
	s.c = c
	s.hs = nil
	s.in.RequestID = c.RequestID
	s.exited, s.sent, s.accessed, s.upSeen, s.snapped = false, false, false, false, false
	s.bodySet, s.bodyDone, s.respBody = false, false, s.respBody[:0]
	s.statusSet = false
	s.pending = s.pending[:0]
	s.uriSet, s.uri = false, ""
	s.uriCached, s.pathCached, s.hostCached = false, false, false
	s.bodyBuf, s.bodyBuff = s.bodyBuf[:0], false
	s.upBody = s.upBody[:0]
	clear(s.vars)
	requestsTotal.Add(1)
	s.SetPhase(p)
}

// SetPhase sets Kong's phase (and ngx.get_phase()'s answer). Call it at
// every phase of a bound request, whether or not plugins run in it: the
// first PhaseAccess of a request sets ngx.ctx.route, ngx.ctx.service and
// ngx.ctx.router_matches (Kong's access.before); the first phase after the
// upstream answered notes the upstream's status and headers
// (kong.service.response) and replays the response headers plugins set in
// rewrite and access; PhaseBodyFilter puts in the body kong.response.exit
// produced in header_filter.
func (s *State) SetPhase(p Phase) {
	ngxName, kongValue := phaseValues(p)
	s.phase = p
	s.in.Phase = ngxName
	if s.c == nil {
		return
	}
	s.in.CtxSet(keyKongPhase, kongValue)
	switch p {
	case PhaseAccess:
		if !s.accessed {
			s.accessed = true
			s.accessBefore()
		}
	case PhaseBodyFilter:
		s.noteUpstream()
		s.replaceBody()
	case PhaseResponse, PhaseHeaderFilter, PhaseLog:
		s.noteUpstream()
	}
}

// replaceBody is Kong's body_filter prologue for a response produced in
// header_filter (kong.response.exit there sets ctx.response_body): the
// first chunk becomes that body, with eof; later chunks of the upstream's
// body are dropped.
func (s *State) replaceBody() {
	if !s.bodySet {
		return
	}
	if s.bodyDone {
		s.c.BodyChunk = s.c.BodyChunk[:0]
		return
	}
	s.c.BodyChunk = append(s.c.BodyChunk[:0:0], s.respBody...)
	s.c.BodyEOF = true
	s.bodyDone = true
}

// BeginHandshake binds s, through r (a Req no request uses, attached
// here), to the TLS handshake h for Kong's certificate phase: no request
// yet, ngx.get_phase() "ssl_cert", ngx.ctx.KONG_PHASE certificate, and
// kong.client.tls's certificate functions act on h. EndHandshake undoes
// it.
func (s *State) BeginHandshake(r *Req, h *proxy.Handshake) {
	r.c, r.hs = nil, h
	s.Attach(r)
	ngxName, kongValue := phaseValues(PhaseCertificate)
	r.phase = PhaseCertificate
	s.hsPrev, s.in.Phase = s.in.Phase, ngxName
	s.in.CtxSet(keyKongPhase, kongValue)
}

// EndHandshake ends the certificate phase BeginHandshake started and
// detaches its Req.
func (s *State) EndHandshake() {
	s.hs, s.phase = nil, 0
	s.Req.socks.End()
	s.in.Phase = s.hsPrev
	s.Detach()
}

// ExitStatus is the status ngx.exit ended a handler with (IsExit(err)):
// in the certificate phase ngx.OK (0) ends the phase and lets the
// handshake go on, any other status fails it (lua-nginx-module's
// ssl_certificate_by_lua).
func ExitStatus(err error) (int, bool) {
	v, ok := luavm.UnwoundWith(err)
	if !ok {
		return 0, false
	}
	ev, ok := v.(exitValue)
	return ev.status, ok
}

// EndAccess notes the request's headers as plugins left them: the host
// calls it when access is over, before the proxy turns the request into
// the upstream's (X-Forwarded-*, Via, Host, HTTP/1.1). Later phases then
// read the client's request as Kong's do (ngx.req.get_headers in log does
// not show what proxy_set_header added). Without it they read the request
// as sent upstream.
func (s *State) EndAccess() {
	if s.c == nil || s.exited {
		return
	}
	s.c.RequestCtx.Request.Header.CopyTo(&s.snap)
	s.snapped = true
}

// reqH is the request header to read: the one noted by EndAccess once
// access is over, else the request's.
func (s *State) reqH() *fasthttp.RequestHeader {
	if s.snapped {
		return &s.snap
	}
	return &s.c.RequestCtx.Request.Header
}

// Exited reports whether a plugin produced the response in this request:
// the host stops running the phase's remaining plugins (Kong's
// delayed_response) and skips the upstream.
func (s *State) Exited() bool { return s.exited }

// End unbinds s from its request (after log).
func (s *State) End() {
	s.in.RequestID = ""
	s.Req.socks.End() // ngx_lua's cleanup of the request's cosockets
	s.Req.Finish()
	s.trim()
}

// Finish ends the request r belongs to (End without a worker: the host
// calls it when the request's later phases had nothing to do, see
// Quiet).
func (r *Req) Finish() {
	r.c = nil
	r.exited = false
	r.uriStr, r.pathRaw, r.path, r.hostStr = "", "", "", ""
	if cap(r.upBody) > 1<<20 {
		r.upBody = nil
	}
	if cap(r.bodyBuf) > 1<<20 {
		r.bodyBuf = nil
	}
}

// Quiet reports, once access is over, that the request PDK has no work
// of its own left in the later phases if no plugin runs there: no
// response header set in rewrite or access waits to be put on the
// upstream's response. The host may then skip those phases (SetPhase
// included) and call Finish instead of End.
func (s *State) Quiet() bool {
	return len(s.pending) == 0 && !s.bodySet && s.Req.socks.Open() == 0
}

// trim bounds the worker's caches (under the worker, at End and Begin).
func (s *State) trim() {
	if len(s.routes) > 4096 {
		clear(s.routes)
	}
	if len(s.services) > 4096 {
		clear(s.services)
	}
}

// Context is the request s is bound to (nil outside a request).
func (s *State) Context() *proxy.Context { return s.c }

// IsExit reports whether err, returned by the host's protected call of a
// phase handler, is ngx.exit (or kong.response.exit outside access)
// ending the handler: not an error.
func IsExit(err error) bool {
	_, ok := luavm.UnwoundWith(err)
	return ok
}

// exitValue is what ngx.exit and kong.response.exit unwind with.
type exitValue struct {
	status int
	admin  bool // outside a request: the response is State.admin
}

// unwind ends the running handler (ngx.exit).
func (s *State) unwind(L *lua.LState, status int) {
	luavm.Unwind(L, exitValue{status: status})
}

// raise raises msg at the caller's line, as Kong's error(msg, 2): prefixed
// with "<source>:<line>: " when the binding was called from Lua, bare when
// called from a Go function (pcall(kong.request.get_header, 1)), as Lua
// leaves the position out for a C caller.
func raise(L *lua.LState, msg string) {
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What != "G" && dbg.CurrentLine > 0 {
			msg = dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": " + msg
		}
	}
	L.Error(lua.LString(msg), 0)
}

// noteUpstream records, once, the upstream's response as it came.
func (s *State) noteUpstream() {
	if s.upSeen {
		return
	}
	s.upSeen = true
	c := s.c
	if !c.Proxied || c.UpstreamErr != nil {
		return
	}
	s.in.CtxSet(keyKongProxied, lua.LTrue)
	resp := &c.RequestCtx.Response
	s.upStatus = resp.StatusCode()
	resp.Header.CopyTo(&s.upHdr)
	if c.BufferResponse {
		s.upBody = append(s.upBody[:0], resp.Body()...)
	}
	for _, op := range s.pending {
		s.apply(op, &resp.Header)
	}
}

// hdrOp is a response header write made before the upstream answered.
type hdrOp struct {
	del        bool
	add        bool
	name, vals string
}

func (s *State) apply(op hdrOp, h *fasthttp.ResponseHeader) {
	switch {
	case op.del:
		s.delHeader(h, op.name)
	case op.add:
		h.Add(op.name, op.vals)
	default:
		h.Set(op.name, op.vals)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
