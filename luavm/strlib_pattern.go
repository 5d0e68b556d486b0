package luavm

import (
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1 patterns, matched by backtracking as Lua does, with two bounds
// Lua lacks: the recursion depth (one level per pattern item that can
// backtrack, at most maxMatchDepth: "pattern too complex") and the work
// done, checked against the state's context every pollEvery steps so a
// pathological pattern stops at the host's deadline with the context's
// error. Single-item repetitions loop rather than recurse, so a long subject
// never deepens the Go stack.

const (
	maxCaptures   = 32  // LUA_MAXCAPTURES
	maxMatchDepth = 200 // Lua 5.2's MAXCCALLS; 5.1 had no bound but the C stack
	pollEvery     = 1024

	capUnfinished = -1
	capPosition   = -2
)

// matcher holds one match attempt's state: the subject, the pattern, the
// captures found so far and the work counters.
type matcher struct {
	L     *lua.LState
	src   string
	pat   string
	level int // captures open or closed so far
	cap   [maxCaptures]struct{ init, len int }
	depth int
	steps uint
	done  <-chan struct{}
}

var matcherPool = sync.Pool{New: func() any { return new(matcher) }}

// newMatcher prepares a matcher for pat over src. Lua 5.1 reads patterns as
// C strings: a pattern ends at its first zero byte. release gives it back.
func newMatcher(L *lua.LState, src, pat string) *matcher {
	m := matcherPool.Get().(*matcher)
	m.L, m.src, m.pat = L, src, cutAtZero(pat)
	m.level, m.depth, m.steps, m.done = 0, 0, 0, nil
	if ctx := L.Context(); ctx != nil {
		m.done = ctx.Done()
	}
	return m
}

// release returns m to the pool once its captures have been used (a
// matcher abandoned by an error is left to the collector).
func (m *matcher) release() {
	m.L, m.src, m.pat, m.done = nil, "", "", nil
	matcherPool.Put(m)
}

// firstByte reports the byte every match of the pattern from p must start
// with, when its first item is a single literal character matched once:
// the callers skip to its occurrences instead of trying every position.
func (m *matcher) firstByte(p int) (byte, bool) {
	pat := m.pat
	if p >= len(pat) {
		return 0, false
	}
	c, next := pat[p], p+1
	switch c {
	case '^', '$', '*', '+', '?', '.', '(', ')', '[', '-':
		return 0, false
	case '%':
		if p+1 >= len(pat) || isAlpha(pat[p+1]) || (pat[p+1] >= '0' && pat[p+1] <= '9') {
			return 0, false
		}
		c, next = pat[p+1], p+2
	}
	if next < len(pat) {
		switch pat[next] {
		case '*', '+', '-', '?':
			return 0, false
		}
	}
	return c, true
}

func cutAtZero(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// next returns the first position from s where a match may start: s
// itself, or the next occurrence of the pattern's first byte (len(src)+1:
// none).
func (m *matcher) next(s int, first byte, ok bool) int {
	if !ok || s >= len(m.src) {
		return s
	}
	i := strings.IndexByte(m.src[s:], first)
	if i < 0 {
		return len(m.src) + 1
	}
	return s + i
}

// reset clears the captures before the next attempt (gsub, gmatch, find).
func (m *matcher) reset() {
	m.level = 0
	m.depth = 0
}

// tick counts one unit of matching work and, every pollEvery units, raises
// the context's error if the state's deadline has passed.
func (m *matcher) tick() {
	m.steps++
	if m.steps%pollEvery == 0 && m.done != nil {
		select {
		case <-m.done:
			m.L.RaiseError("%s", m.L.Context().Err().Error())
		default:
		}
	}
}

func (m *matcher) fail(msg string) {
	raise(m.L, "%s", msg)
}

// classEnd returns the index just after the single-character class that
// starts at p.
func (m *matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			m.fail("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		// the first character of a set is literal, even ']'
		for {
			if p >= len(pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++
			}
			if p < len(pat) && pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

// isClass reports whether byte c belongs to class letter cl (%a, %d, ...;
// upper case complements); another letter stands for itself.
func isClass(c, cl byte) bool {
	var r bool
	switch cl | 0x20 {
	case 'a':
		r = isAlpha(c)
	case 'c':
		r = c < 32 || c == 127
	case 'd':
		r = c >= '0' && c <= '9'
	case 'l':
		r = c >= 'a' && c <= 'z'
	case 'p':
		r = isPunct(c)
	case 's':
		r = c == ' ' || (c >= '\t' && c <= '\r')
	case 'u':
		r = c >= 'A' && c <= 'Z'
	case 'w':
		r = isAlpha(c) || (c >= '0' && c <= '9')
	case 'x':
		r = (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
	case 'z':
		r = c == 0
	default:
		return cl == c
	}
	if cl >= 'A' && cl <= 'Z' {
		return !r
	}
	return r
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}

// inSet reports whether c is in the set pat[p:ec+1], p at '[' and ec at its
// closing ']'.
func (m *matcher) inSet(c byte, p, ec int) bool {
	pat := m.pat
	want := true
	p++
	if pat[p] == '^' {
		want = false
		p++
	}
	for p < ec {
		switch {
		case pat[p] == '%' && p+1 < ec:
			if isClass(c, pat[p+1]) {
				return want
			}
			p += 2
		case p+2 < ec && pat[p+1] == '-':
			if pat[p] <= c && c <= pat[p+2] {
				return want
			}
			p += 3
		default:
			if pat[p] == c {
				return want
			}
			p++
		}
	}
	return !want
}

// single reports whether c matches the class pat[p:ep].
func (m *matcher) single(c byte, p, ep int) bool {
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return isClass(c, m.pat[p+1])
	case '[':
		return m.inSet(c, p, ep-1)
	}
	return m.pat[p] == c
}

// match matches the pattern from p against the subject from s and returns
// where the match ends, or -1.
func (m *matcher) match(s, p int) int {
	m.depth++
	if m.depth > maxMatchDepth {
		m.fail("pattern too complex")
	}
	r := m.doMatch(s, p)
	m.depth--
	return r
}

func (m *matcher) doMatch(s, p int) int {
	pat, src := m.pat, m.src
	for {
		m.tick()
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b':
					if s = m.balance(s, p+2); s == -1 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					p += 2
					if p >= len(pat) || pat[p] != '[' {
						m.fail("missing '[' after '%f' in pattern")
					}
					ep := m.classEnd(p)
					var prev, cur byte
					if s > 0 {
						prev = src[s-1]
					}
					if s < len(src) {
						cur = src[s]
					}
					if m.inSet(prev, p, ep-1) || !m.inSet(cur, p, ep-1) {
						return -1
					}
					p = ep
					continue
				case c >= '0' && c <= '9':
					if s = m.backRef(s, c); s == -1 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		ep := m.classEnd(p)
		ok := s < len(src) && m.single(src[s], p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if ok {
					if r := m.match(s+1, ep+1); r != -1 {
						return r
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.maxExpand(s, p, ep)
			case '+':
				if !ok {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-':
				return m.minExpand(s, p, ep)
			}
		}
		if !ok {
			return -1
		}
		s++
		p = ep
	}
}

// maxExpand matches as many repetitions of pat[p:ep] from s as possible,
// then gives them back one at a time until the rest of the pattern matches.
func (m *matcher) maxExpand(s, p, ep int) int {
	n := 0
	for s+n < len(m.src) && m.single(m.src[s+n], p, ep) {
		m.tick()
		n++
	}
	for ; n >= 0; n-- {
		if r := m.match(s+n, ep+1); r != -1 {
			return r
		}
	}
	return -1
}

// minExpand matches as few repetitions of pat[p:ep] as let the rest match.
func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if r := m.match(s, ep+1); r != -1 {
			return r
		}
		if s < len(m.src) && m.single(m.src[s], p, ep) {
			s++
			continue
		}
		return -1
	}
}

func (m *matcher) startCapture(s, p, what int) int {
	if m.level >= maxCaptures {
		m.fail("too many captures")
	}
	m.cap[m.level].init = s
	m.cap[m.level].len = what
	m.level++
	r := m.match(s, p)
	if r == -1 {
		m.level--
	}
	return r
}

func (m *matcher) endCapture(s, p int) int {
	l := -1
	for i := m.level - 1; i >= 0; i-- {
		if m.cap[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.cap[l].len = s - m.cap[l].init
	r := m.match(s, p)
	if r == -1 {
		m.cap[l].len = capUnfinished
	}
	return r
}

// balance matches %bxy at s (pat[p] is x, pat[p+1] is y).
func (m *matcher) balance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("unbalanced pattern")
	}
	src := m.src
	if s >= len(src) || src[s] != m.pat[p] {
		return -1
	}
	open, close := m.pat[p], m.pat[p+1]
	depth := 1
	for i := s + 1; i < len(src); i++ {
		m.tick()
		switch src[i] {
		case close:
			if depth--; depth == 0 {
				return i + 1
			}
		case open:
			depth++
		}
	}
	return -1
}

// backRef matches %1-%9 (c is the digit) at s.
func (m *matcher) backRef(s int, c byte) int {
	l := int(c) - '1'
	if l < 0 || l >= m.level || m.cap[l].len == capUnfinished {
		m.fail("invalid capture index")
	}
	n := m.cap[l].len
	if n < 0 || len(m.src)-s < n {
		return -1 // a position capture never matches text
	}
	init := m.cap[l].init
	if m.src[s:s+n] != m.src[init:init+n] {
		return -1
	}
	return s + n
}

// capture returns capture i of the match src[s:e] (capture 0 is the whole
// match when the pattern has none): a string or a position.
func (m *matcher) capture(i, s, e int) lua.LValue {
	if i >= m.level {
		if i != 0 {
			m.fail("invalid capture index")
		}
		return lua.LString(m.src[s:e])
	}
	c := m.cap[i]
	switch c.len {
	case capUnfinished:
		m.fail("unfinished capture")
	case capPosition:
		return lua.LNumber(c.init + 1)
	}
	return lua.LString(m.src[c.init : c.init+c.len])
}

// nCaptures is how many values a match pushes: its captures, or the whole
// match when it has none (wholeMatch false: none, as find's positions
// stand for it).
func (m *matcher) nCaptures(wholeMatch bool) int {
	if m.level == 0 && wholeMatch {
		return 1
	}
	return m.level
}

// pushCaptures pushes the captures of the match src[s:e].
func (m *matcher) pushCaptures(s, e int, wholeMatch bool) int {
	n := m.nCaptures(wholeMatch)
	for i := 0; i < n; i++ {
		m.L.Push(m.capture(i, s, e))
	}
	return n
}
