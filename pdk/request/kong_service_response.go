package request

import (
	lua "github.com/yuin/gopher-lua"
)

// upstreamAnswered: the upstream's response is known (proxied, no error).
func (s *State) upstreamAnswered() bool {
	return s.c != nil && s.upSeen && s.c.Proxied && s.c.UpstreamErr == nil
}

func (s *State) srespGetStatus(L *lua.LState) int {
	s.check(L, serviceHeaderBodyLog)
	if v, ok := s.in.CtxGetString("buffered_status").(lua.LNumber); ok {
		L.Push(v)
		return 1
	}
	if !s.upstreamAnswered() {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(s.upStatus))
	return 1
}

// srespGetHeaders is kong.service.response.get_headers as Kong builds it:
// with buffered proxying an empty table whose __index reads the
// upstream's headers as they came (ctx.buffered_headers); otherwise the
// current response headers (as ngx.resp.get_headers) whose __index answers
// only names the upstream sent (Kong checks $upstream_http_<name>).
func (s *State) srespGetHeaders(L *lua.LState) int {
	s.check(L, serviceHeaderBodyLog)
	max, ok := checkMax(L, 1, "max_headers")
	if !ok {
		max = s.maxRespHeaders
	}
	if !s.upstreamAnswered() {
		L.Push(L.NewTable())
		return 1
	}
	if s.c.BufferResponse {
		t := L.NewTable()
		mt := L.CreateTable(0, 1)
		mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			name, ok := L.Get(2).(lua.LString)
			if !ok {
				return 0
			}
			L.Push(s.bufferedHeader(string(name), max))
			return 1
		}))
		t.Metatable = mt
		L.Push(t)
		return 1
	}
	t, truncated := s.headerTable(L, respHeaderAll(&s.resp().Header), max, false)
	t.Metatable = s.srespMT()
	L.Push(t)
	if truncated {
		s.truncated(respHeadersTruncated)
		L.Push(lua.LString("truncated"))
		return 2
	}
	return 1
}

// bufferedHeader is a header of the upstream's response as it came (any
// case, '_' as '-'), among its first max; an array when repeated.
func (s *State) bufferedHeader(name string, max int) lua.LValue {
	key := s.headerKey(name)
	var vals []lua.LValue
	n := 0
	for k, v := range s.upHdr.All() {
		if n++; n > max {
			break
		}
		if equalFoldDash(k, key) {
			vals = append(vals, lua.LString(v))
		}
	}
	switch len(vals) {
	case 0:
		return lua.LNil
	case 1:
		return vals[0]
	}
	arr := s.L.CreateTable(len(vals), 0)
	for _, v := range vals {
		arr.Append(v)
	}
	return arr
}

// upstreamSent reports whether the upstream's response had the header
// ($upstream_http_<name> is set).
func (s *State) upstreamSent(name string) bool {
	key := s.headerKey(name)
	for k := range s.upHdr.All() {
		if equalFoldDash(k, key) {
			return true
		}
	}
	return false
}

// srespMT is the metatable of a non-buffered get_headers table: a name
// the upstream did not send reads nil, others as ngx.resp.get_headers'
// metatable does (lower-cased, '_' as '-').
func (s *State) srespMT() *lua.LTable {
	if s.srespMeta != nil {
		return s.srespMeta
	}
	L := s.L
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		if name, ok := L.Get(2).(lua.LString); ok && (s.c == nil || !s.upstreamSent(string(name))) {
			return 0
		}
		return headerIndex(L)
	}))
	s.srespMeta = mt
	return mt
}

// srespGetHeader is get_headers()[name], its first value.
func (s *State) srespGetHeader(L *lua.LState) int {
	s.check(L, serviceHeaderBodyLog)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "name must be a string")
	}
	if !s.upstreamAnswered() {
		L.Push(lua.LNil)
		return 1
	}
	var v lua.LValue
	if s.c.BufferResponse {
		v = s.bufferedHeader(string(name), s.maxRespHeaders)
	} else {
		top := L.GetTop()
		s.srespGetHeadersInto(L)
		t := L.Get(-1).(*lua.LTable)
		L.SetTop(top)
		v = L.GetField(t, string(name))
	}
	if arr, ok := v.(*lua.LTable); ok {
		v = arr.RawGetInt(1)
	}
	L.Push(v)
	return 1
}

// srespGetHeadersInto pushes the non-buffered get_headers() table.
func (s *State) srespGetHeadersInto(L *lua.LState) {
	t, _ := s.headerTable(L, respHeaderAll(&s.resp().Header), s.maxRespHeaders, false)
	t.Metatable = s.srespMT()
	L.Push(t)
}

const errNotBuffered = "service body is only available with buffered proxying " +
	"(see: kong.service.request.enable_buffering function)"

func (s *State) srespGetRawBody(L *lua.LState) int {
	s.check(L, serviceHeaderBodyLog)
	if s.c == nil || !s.c.BufferResponse {
		raise(L, errNotBuffered)
	}
	L.Push(lua.LString(s.upBody))
	return 1
}

func (s *State) srespGetBody(L *lua.LState) int {
	s.check(L, serviceHeaderBodyLog)
	if s.c == nil || !s.c.BufferResponse {
		raise(L, errNotBuffered)
	}
	var ct string
	if v, ok := L.Get(1).(lua.LString); ok {
		ct = string(v)
	} else {
		found := false
		for k, v := range s.upHdr.All() {
			if equalFoldDash(k, "content-type") {
				ct, found = string(v), true
				break
			}
		}
		if !found {
			L.Push(lua.LNil)
			L.Push(lua.LString("missing content type"))
			return 2
		}
	}
	return s.decodeBody(L, ct, s.upBody, 2, 100) // Kong's MAX_POST_ARGS_DEFAULT
}
