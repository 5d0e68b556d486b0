package request

import (
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/proxy"
)

// newKongResponse is kong.response (kong/pdk/response.lua).
func (s *State) newKongResponse() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_status":   s.respGetStatus,
		"get_header":   s.respGetHeader,
		"get_headers":  s.respGetHeaders,
		"get_source":   s.respGetSource,
		"set_status":   s.respSetStatus,
		"set_header":   s.respSetHeader,
		"add_header":   s.respAddHeader,
		"clear_header": s.respClearHeader,
		"set_headers":  s.respSetHeaders,
		"get_raw_body": s.respGetRawBody,
		"set_raw_body": s.respSetRawBody,
		"exit":         s.respExit,
		"error":        s.respError,
	})
	return t
}

// resp is the response being produced: the request's, or outside a
// request (the Admin API's content phase) the one kong.response.exit
// leaves for AdminResponse.
func (s *State) resp() *fasthttp.Response {
	if s.c == nil {
		return &s.admin
	}
	return &s.c.RequestCtx.Response
}

// AdminResponse reports whether err, returned by the protected call of a
// handler run outside a proxied request (the Admin API, ngx.get_phase()
// "content"), is kong.response.exit or kong.response.error ending it, and
// the response it produced (valid until the worker's next such exit).
func (s *State) AdminResponse(err error) (*fasthttp.Response, bool) {
	v, ok := luavm.UnwoundWith(err)
	if !ok {
		return nil, false
	}
	if ev, ok := v.(exitValue); ok && ev.admin {
		return &s.admin, true
	}
	return nil, false
}

func (s *State) respGetStatus(L *lua.LState) int {
	s.check(L, headerBodyLog)
	if s.c == nil {
		return 0
	}
	L.Push(lua.LNumber(s.resp().StatusCode()))
	return 1
}

func (s *State) respGetHeader(L *lua.LState) int {
	s.check(L, headerBodyLog)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "header name must be a string")
	}
	if s.c == nil {
		return 0
	}
	h := &s.resp().Header
	key := s.headerKey(string(name))
	if v := h.Peek(key); v != nil {
		L.Push(lua.LString(v))
		return 1
	}
	for k, v := range h.All() {
		if equalFoldDash(k, key) {
			L.Push(lua.LString(v))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

func (s *State) respGetHeaders(L *lua.LState) int {
	s.check(L, headerBodyLog)
	max, ok := checkMax(L, 1, "max_headers")
	if !ok {
		max = s.maxRespHeaders
	}
	if s.c == nil {
		return 0
	}
	return s.pushRespHeaderTable(L, max, false)
}

func (s *State) respGetSource(L *lua.LState) int {
	ctx, ok := L.Get(1).(*lua.LTable)
	if !ok {
		s.check(L, headerBodyLog)
		ctx = s.in.CurrentCtx()
	}
	src := "error"
	switch {
	case lua.LVAsBool(ctx.RawGetString("KONG_UNEXPECTED")):
	case lua.LVAsBool(ctx.RawGetString("KONG_EXITED")):
		src = "exit"
	case lua.LVAsBool(ctx.RawGetString("KONG_PROXIED")):
		src = "service"
	}
	L.Push(lua.LString(src))
	return 1
}

// checkSent is Kong's "headers have already been sent".
func (s *State) checkSent(L *lua.LState) {
	if s.sent {
		raise(L, "headers have already been sent")
	}
}

// checkStatus is Kong's status code check, min..599.
func checkStatus(L *lua.LState, v lua.LValue, min int) int {
	n, ok := v.(lua.LNumber)
	if !ok {
		raise(L, "code must be a number")
	}
	if float64(n) < float64(min) || n > 599 {
		raise(L, "code must be a number between "+strconv.Itoa(min)+" and 599")
	}
	return int(n)
}

func (s *State) respSetStatus(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	st := checkStatus(L, L.Get(1), 100)
	if s.c == nil {
		return 0
	}
	s.resp().SetStatusCode(st)
	s.statusSet = true
	return 0
}

// isTransferEncoding: Kong ignores a Transfer-Encoding set by a plugin.
func (s *State) isTransferEncoding(name string) bool {
	if strings.EqualFold(name, "transfer-encoding") || strings.EqualFold(name, "transfer_encoding") {
		s.in.Log(pdk.LogWarn, "[kong] "+s.pluginPrefix()+"manually setting Transfer-Encoding. Ignored.")
		return true
	}
	return false
}

func (s *State) pluginPrefix() string {
	if s.in.PluginName() != "" {
		return "[" + s.in.PluginName() + "] "
	}
	return ""
}

// setRespHeader is ngx.header[name] = values (nil values: cleared); before
// the upstream answered the write is also kept to be replayed on its
// response. An '_' in name is written '-', as lua-nginx-module does
// (lua_transform_underscores_in_response_headers, on in Kong).
func (s *State) setRespHeader(name string, vals []string, add bool) {
	name = s.headerKey(name)
	h := &s.resp().Header
	early := s.phase == PhaseRewrite || s.phase == PhaseAccess
	if !add {
		s.delHeader(h, name)
		if early {
			s.pending = append(s.pending, hdrOp{del: true, name: name})
		}
	}
	for _, v := range vals {
		h.Add(name, v)
		if early {
			s.pending = append(s.pending, hdrOp{add: true, name: name, vals: v})
		}
	}
}

func (s *State) respSetHeader(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	name, vals := s.checkHeaderValue(L, L.Get(1), L.Get(2))
	if s.isTransferEncoding(name) || s.c == nil {
		return 0
	}
	s.setRespHeader(name, vals, false)
	return 0
}

func (s *State) respAddHeader(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	name, vals := s.checkHeaderValue(L, L.Get(1), L.Get(2))
	if s.c == nil {
		return 0
	}
	s.setRespHeader(name, vals, true)
	return 0
}

func (s *State) respClearHeader(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "header name must be a string")
	}
	if s.c == nil {
		return 0
	}
	s.setRespHeader(string(name), nil, false)
	return 0
}

func (s *State) respSetHeaders(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	t := s.checkHeaders(L, L.Get(1))
	if s.c == nil {
		return 0
	}
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		name := string(k.(lua.LString))
		if !s.isTransferEncoding(name) {
			s.setRespHeader(name, s.headerValues(L, name, v, true), false)
		}
	}
	return 0
}

func (s *State) respGetRawBody(L *lua.LState) int {
	s.check(L, PhaseBodyFilter)
	if s.c == nil {
		return 0
	}
	c := s.c
	if c.BodyEOF && !s.bodyBuff {
		L.Push(lua.LString(c.BodyChunk))
		return 1
	}
	if len(c.BodyChunk) > 0 {
		s.bodyBuf = append(s.bodyBuf, c.BodyChunk...)
		s.bodyBuff = true
	}
	if c.BodyEOF {
		body := string(s.bodyBuf)
		c.BodyChunk = []byte(body)
		s.bodyBuf, s.bodyBuff = s.bodyBuf[:0], false
		L.Push(lua.LString(body))
		return 1
	}
	c.BodyChunk = nil
	L.Push(lua.LNil)
	return 1
}

func (s *State) respSetRawBody(L *lua.LState) int {
	s.check(L, PhaseBodyFilter)
	body, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "body must be a string")
	}
	if s.c == nil {
		return 0
	}
	if body == "" {
		body = "\n" // as Kong: nginx needs a non-empty last chunk
	}
	s.c.BodyChunk = []byte(body)
	s.c.BodyEOF = true
	s.bodyBuf, s.bodyBuff = s.bodyBuf[:0], false
	return 0
}

func (s *State) respExit(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	status := checkStatus(L, L.Get(1), 100)
	body := L.Get(2)
	switch body.(type) {
	case *lua.LNilType, lua.LString, *lua.LTable:
	default:
		raise(L, "body must be a nil, string or table")
	}
	var headers *lua.LTable
	if v := L.Get(3); v != lua.LNil {
		t, ok := v.(*lua.LTable)
		if !ok {
			raise(L, "headers must be a nil or table")
		}
		headers = s.checkHeaders(L, t)
	}
	if s.c == nil && s.current() != PhaseAdminAPI {
		return 0
	}
	s.send(L, status, body, headers)
	return 0
}

// grpcRequest is Kong's is_grpc_request: the request's Content-Type
// ($content_type) starts with application/grpc and it came over HTTP/2.
func (s *State) grpcRequest() bool {
	if s.c == nil || s.c.HTTP2() == "" {
		return false
	}
	ct, _ := s.reqHeader("Content-Type")
	return proxy.IsGRPC(ct)
}

// respHas reports whether the response has a header name (any case, '_'
// as '-') with a value, as Kong's ngx.header[name] reads it back (nginx
// keeps no header set to "").
func (s *State) respHas(h *fasthttp.ResponseHeader, name string) bool {
	if v := h.Peek(name); len(v) > 0 {
		return true
	}
	for k, v := range h.All() {
		if len(v) > 0 && equalFoldDash(k, name) {
			return true
		}
	}
	return false
}

// setResp is ngx.header[name] = value in send: the header's lines
// replaced.
func (s *State) setResp(h *fasthttp.ResponseHeader, name, value string) {
	s.delHeader(h, name)
	h.Add(name, value)
}

// send is Kong's send(status, body, headers): the response written, then
// the handler ended (ngx.exit). body is nil, a string or a table (JSON,
// or for gRPC its message field). A gRPC response (its Content-Type
// application/grpc..., or none and a gRPC request) gets grpc-status
// mapped from status unless it has one; a body sent to a gRPC client
// whose output is not gRPC goes in grpc-message instead, the body empty.
func (s *State) send(L *lua.LState, status int, body lua.LValue, headers *lua.LTable) {
	resp := s.resp()
	if s.c == nil {
		resp.Reset()
		resp.Header.DisableNormalizing()
	}
	resp.SetStatusCode(status)
	s.statusSet = true
	hasCT, hasCL := false, false
	if headers != nil {
		for k, v := headers.Next(lua.LNil); k != lua.LNil; k, v = headers.Next(k) {
			name := string(k.(lua.LString))
			if !s.isTransferEncoding(name) {
				vals := s.headerValues(L, name, v, true)
				key := s.headerKey(name) // ngx.header: '_' written '-'
				s.delHeader(&resp.Header, key)
				for _, x := range vals {
					resp.Header.Add(key, x)
				}
			}
			switch strings.ToLower(name) {
			case "content-type", "content_type":
				hasCT = true
			case "content-length", "content_length":
				hasCL = true
			}
		}
	}
	isGRPC, grpcOut := false, false
	if s.c != nil {
		// the Content-Type set, or none: the proxy's responses get no
		// default from fasthttp (proxy.resetResponse)
		if ct := resp.Header.ContentType(); len(ct) > 0 {
			isGRPC = proxy.IsGRPC(ct)
			grpcOut = isGRPC
		} else {
			isGRPC = s.grpcRequest()
		}
	}
	grpcStatus := -1
	if isGRPC && !s.respHas(&resp.Header, "grpc-status") {
		grpcStatus = proxy.GRPCStatus(status)
		s.setResp(&resp.Header, "grpc-status", strconv.Itoa(grpcStatus))
	}
	var text string
	hasBody, isJSON := false, false
	switch b := body.(type) {
	case lua.LString:
		text, hasBody = string(b), true
	case *lua.LTable:
		switch {
		case !isGRPC:
			out, err := s.in.JSON().Encode(L, b)
			if err != "" {
				raise(L, "body encoding failed while flushing response: "+err)
			}
			text, hasBody, isJSON = out, true, true
		case grpcOut:
			raise(L, "table body encoding with gRPC is not supported")
		default:
			if m, ok := L.GetField(b, "message").(lua.LString); ok {
				text, hasBody = string(m), true
			} else {
				s.in.Log(pdk.LogWarn, "[kong] "+s.pluginPrefix()+
					"body was removed because table body encoding with gRPC is not supported")
			}
		}
	}
	defaultMessage := func() {
		if grpcStatus >= 0 && !s.respHas(&resp.Header, "grpc-message") {
			s.setResp(&resp.Header, "grpc-message", proxy.GRPCMessage(grpcStatus))
		}
	}
	switch {
	case isJSON:
		if !hasCT {
			resp.Header.SetContentType("application/json; charset=utf-8")
		}
		if !hasCL {
			resp.Header.SetContentLength(len(text))
		}
	case hasBody && isGRPC && !grpcOut:
		resp.Header.SetContentLength(0)
		s.setResp(&resp.Header, "grpc-message", text)
		text = ""
	case hasBody:
		if !hasCL {
			resp.Header.SetContentLength(len(text))
		}
		defaultMessage()
	default:
		if !hasCL {
			resp.Header.SetContentLength(0)
		}
		defaultMessage()
	}
	resp.SetBodyString(text)
	if s.phase == PhaseHeaderFilter && s.c != nil {
		// a streamed upstream body is replaced chunk by chunk in
		// body_filter (Kong's ctx.response_body)
		s.respBody = append(s.respBody[:0], text...)
		s.bodySet, s.bodyDone = true, false
	}
	if s.c == nil {
		luavm.Unwind(L, exitValue{status: status, admin: true})
	}
	s.exited = true
	s.in.CtxSet(keyKongExited, lua.LTrue)
	if s.c != nil && !s.c.Proxied && lua.LVAsBool(s.in.CtxGet(keyKongProxied)) {
		s.c.MarkedProxied = true
	}
	s.unwind(L, status)
}

// httpErrorMessages are Kong's HTTP_ERROR_MESSAGES (response.lua).
var httpErrorMessages = map[int]string{
	400: "Bad request", 401: "Unauthorized", 402: "Payment required", 403: "Forbidden",
	404: "Not found", 405: "Method not allowed", 406: "Not acceptable",
	407: "Proxy authentication required", 408: "Request timeout", 409: "Conflict", 410: "Gone",
	411: "Length required", 412: "Precondition failed", 413: "Payload too large",
	414: "URI too long", 415: "Unsupported media type", 416: "Range not satisfiable",
	417: "Expectation failed", 418: "I'm a teapot", 421: "Misdirected request",
	422: "Unprocessable entity", 423: "Locked", 424: "Failed dependency", 425: "Too early",
	426: "Upgrade required", 428: "Precondition required", 429: "Too many requests",
	431: "Request header fields too large", 451: "Unavailable for legal reasons",
	494: "Request header or cookie too large", 500: "An unexpected error occurred",
	501: "Not implemented", 502: "An invalid response was received from the upstream server",
	503: "The upstream server is currently unavailable", 504: "The upstream server is timing out",
	505: "HTTP version not supported", 506: "Variant also negotiates", 507: "Insufficient storage",
	508: "Loop detected", 510: "Not extended", 511: "Network authentication required",
}

func httpErrorMessage(status int) string {
	if m, ok := httpErrorMessages[status]; ok {
		return m
	}
	return "The upstream server responded with " + strconv.Itoa(status)
}

func (s *State) respError(L *lua.LState) int {
	s.check(L, rewriteAccessHeader)
	s.checkSent(L)
	status := checkStatus(L, L.Get(1), 400)
	var message string
	hasMessage := false
	switch m := L.Get(2).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		out, err := s.in.JSON().Encode(L, m)
		if err != "" {
			raise(L, "could not JSON encode the error message: "+err)
		}
		message, hasMessage = out, true
	case lua.LString:
		message, hasMessage = string(m), true
	default:
		raise(L, "message must be a nil, a string or a table")
	}
	var headers *lua.LTable
	if v := L.Get(3); v != lua.LNil {
		t, ok := v.(*lua.LTable)
		if !ok {
			raise(L, "headers must be a nil or table")
		}
		headers = s.checkHeaders(L, t)
	} else {
		headers = L.NewTable()
	}
	if s.c == nil && s.current() != PhaseAdminAPI {
		return 0
	}
	var ct string
	switch v := headers.RawGetString("Content-Type").(type) {
	case lua.LString:
		ct = string(v)
	case *lua.LTable:
		ct = lua.LVAsString(v.RawGetInt(1))
	default:
		if s.grpcRequest() {
			ct = proxy.MIMEGRPC
			break
		}
		var accept []byte
		if s.c != nil {
			accept, _ = s.reqHeader("Accept")
		}
		ct = proxy.ResponseType(string(accept))
	}
	headers.RawSetString("Content-Type", lua.LString(ct))
	if !hasMessage {
		message = httpErrorMessage(status)
	}
	// no body for gRPC (the status says it all: grpc-status, grpc-message)
	var body lua.LValue = lua.LNil
	if ct != proxy.MIMEGRPC {
		rid := ""
		if s.c != nil {
			rid = s.c.RequestID
		}
		text, ok := proxy.ErrorBody(ct, message, rid)
		if !ok {
			raise(L, "bad argument #1 to 'format' (string expected, got nil)")
		}
		body = lua.LString(text)
	}
	s.send(L, status, body, headers)
	return 0
}
