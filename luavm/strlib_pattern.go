package luavm

import (
	"errors"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luapattern"
)

// Lua 5.1 patterns for string.find, match, gmatch and gsub: the matching is
// luapattern's; this file ties it to a state. The matcher polls the state's
// context every luapattern.PollEvery steps, so a pathological pattern stops
// at the host's deadline with the context's error; a malformed pattern
// raises Lua's message.

// matcher is a luapattern.Matcher over one subject, for one call of a
// string function in state L.
type matcher struct {
	luapattern.Matcher
	L    *lua.LState
	src  string
	done <-chan struct{}
	poll func() error // m.pollDone, made once per pooled matcher
}

var matcherPool = sync.Pool{New: func() any {
	m := new(matcher)
	m.poll = m.pollDone
	return m
}}

// errDeadline stops a match whose state's context is done.
var errDeadline = errors.New("deadline")

// newMatcher prepares a matcher for pat over src. Lua 5.1 reads patterns as
// C strings: a pattern ends at its first zero byte. release gives it back.
func newMatcher(L *lua.LState, src, pat string) *matcher {
	m := matcherPool.Get().(*matcher)
	m.L, m.src, m.done = L, src, nil
	if ctx := L.Context(); ctx != nil {
		m.done = ctx.Done()
	}
	poll := m.poll
	if m.done == nil {
		poll = nil
	}
	m.Reset(src, cutAtZero(pat), poll)
	return m
}

// release returns m to the pool once its captures have been used (a
// matcher abandoned by an error is left to the collector).
func (m *matcher) release() {
	m.L, m.src, m.done = nil, "", nil
	m.Reset("", "", nil)
	matcherPool.Put(m)
}

func (m *matcher) pollDone() error {
	select {
	case <-m.done:
		return errDeadline
	default:
		return nil
	}
}

// find is Matcher.Find, raising its errors in L.
func (m *matcher) find(init int, anchor bool) (start, end int) {
	start, end, err := m.Find(init, anchor)
	if err != nil {
		m.raise(err)
	}
	return start, end
}

// raise raises a matching error in L: the context's error for a deadline,
// Lua's message for a malformed pattern.
func (m *matcher) raise(err error) {
	if err == errDeadline {
		m.L.RaiseError("%s", m.L.Context().Err().Error())
	}
	raise(m.L, "%s", err.Error())
}

func cutAtZero(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// capture returns capture i of the match src[s:e] (capture 0 is the whole
// match when the pattern has none): a string or a position.
func (m *matcher) capture(i, s, e int) lua.LValue {
	c, err := m.Capture(i, s, e)
	if err != nil {
		m.raise(err)
	}
	if c.Position {
		return lua.LNumber(c.Start + 1)
	}
	return lua.LString(m.src[c.Start:c.End])
}

// pushCaptures pushes the captures of the match src[s:e] (wholeMatch
// false: none when the pattern has none, as find's positions stand for
// it).
func (m *matcher) pushCaptures(s, e int, wholeMatch bool) int {
	n := m.NCaptures(wholeMatch)
	for i := 0; i < n; i++ {
		m.L.Push(m.capture(i, s, e))
	}
	return n
}
