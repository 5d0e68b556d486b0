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
	if v, ok := s.in.CurrentCtx().RawGetString("buffered_status").(lua.LNumber); ok {
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
	return s.pushHeaderTable(L, respHeaderAll(&s.upHdr), max, false)
}

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
	key := s.headerKey(string(name))
	for k, v := range s.upHdr.All() {
		if equalFoldDash(k, key) {
			L.Push(lua.LString(v))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
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
