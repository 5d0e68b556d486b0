// Package luapattern matches Lua 5.1 patterns (the reference manual's
// §5.4.1: string.find, match, gmatch and gsub, and Kong's schema `match`
// validators, which run value:match(pattern)). It is plain Go with no Lua
// runtime, so the data layer can use it; luavm builds the string library on
// it.
//
// Matching backtracks as Lua does, with two bounds Lua lacks: the recursion
// depth (one level per pattern item that can backtrack, at most MaxDepth:
// "pattern too complex"), and a Poll hook called every PollEvery steps of
// work, whose error stops the match (luavm passes the state's deadline).
// Single-item repetitions loop rather than recurse, so a long subject never
// deepens the Go stack.
package luapattern

import "strings"

const (
	MaxCaptures = 32  // LUA_MAXCAPTURES
	MaxDepth    = 200 // Lua 5.2's MAXCCALLS; 5.1 had no bound but the C stack
	PollEvery   = 1024

	capUnfinished = -1
	capPosition   = -2
)

// Error is a malformed pattern or a bound reached, with Lua's message
// ("malformed pattern (missing ']')", "pattern too complex").
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// abort carries an error out of the recursion; the exported methods
// recover it.
type abort struct{ err error }

// Matcher matches one pattern over one subject; Reset prepares it for
// another. The zero value is ready for Reset.
type Matcher struct {
	src   string
	pat   string
	level int // captures open or closed so far
	cap   [MaxCaptures]struct{ init, len int }
	depth int
	steps uint
	poll  func() error
}

// Reset prepares m to match pattern pat over src. poll, when not nil, is
// called every PollEvery steps; an error it returns ends the match with
// that error. The pattern is used as given, zero bytes included (Lua 5.1
// reads a pattern up to its first zero byte: that is the caller's to do).
func (m *Matcher) Reset(src, pat string, poll func() error) {
	m.src, m.pat, m.poll = src, pat, poll
	m.level, m.depth, m.steps = 0, 0, 0
}

// Subject returns the subject being matched.
func (m *Matcher) Subject() string { return m.src }

// Anchored reports whether the pattern starts with '^', which anchors it
// in Find with anchor set.
func (m *Matcher) Anchored() bool { return len(m.pat) > 0 && m.pat[0] == '^' }

// Find looks for the first match starting at or after init (0 ≤ init ≤
// len(subject)) and returns where it starts and ends (start -1: none). With
// anchor, a leading '^' anchors the pattern at init (string.find, match,
// gsub); without, '^' is an ordinary character (string.gmatch). The
// captures of the match are then read with Capture.
func (m *Matcher) Find(init int, anchor bool) (start, end int, err error) {
	defer m.recover(&err)
	p := 0
	anchored := anchor && m.Anchored()
	if anchored {
		p = 1
	}
	first, skip := m.firstByte(p)
	skip = skip && !anchored
	for s := init; s <= len(m.src); s++ {
		if skip {
			if s = m.next(s, first); s > len(m.src) {
				break
			}
		}
		m.level, m.depth = 0, 0
		if e := m.match(s, p); e != -1 {
			return s, e, nil
		}
		if anchored {
			break
		}
	}
	return -1, -1, nil
}

// Match reports whether the pattern matches anywhere in the subject, as
// Lua's string.match(s, pattern) ~= nil, including its errors: a pattern
// whose match leaves a capture open raises "unfinished capture".
func (m *Matcher) Match() (bool, error) {
	s, e, err := m.Find(0, true)
	if err != nil || s < 0 {
		return false, err
	}
	for i := 0; i < m.NCaptures(true); i++ {
		if _, err := m.Capture(i, s, e); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Match is Matcher.Match for one subject and pattern.
func Match(s, pattern string) (bool, error) {
	var m Matcher
	m.Reset(s, pattern, nil)
	return m.Match()
}

func (m *Matcher) recover(err *error) {
	if r := recover(); r != nil {
		a, ok := r.(abort)
		if !ok {
			panic(r)
		}
		*err = a.err
	}
}

// Capture is one capture of a match: the text src[Start:End], or, for a
// position capture "()", the position Start (0-based).
type Capture struct {
	Start, End int
	Position   bool
}

// NCaptures is how many values a match gives: its captures, or the whole
// match when it has none (wholeMatch false: none, as string.find's
// positions stand for it).
func (m *Matcher) NCaptures(wholeMatch bool) int {
	if m.level == 0 && wholeMatch {
		return 1
	}
	return m.level
}

// Capture returns capture i (0-based) of the match src[s:e] just found;
// capture 0 of a pattern without captures is the whole match.
func (m *Matcher) Capture(i, s, e int) (Capture, error) {
	if i >= m.level {
		if i != 0 {
			return Capture{}, &Error{"invalid capture index"}
		}
		return Capture{Start: s, End: e}, nil
	}
	c := m.cap[i]
	switch c.len {
	case capUnfinished:
		return Capture{}, &Error{"unfinished capture"}
	case capPosition:
		return Capture{Start: c.init, Position: true}, nil
	}
	return Capture{Start: c.init, End: c.init + c.len}, nil
}

// firstByte reports the byte every match of the pattern from p must start
// with, when its first item is a single literal character matched once:
// Find then skips to its occurrences instead of trying every position.
func (m *Matcher) firstByte(p int) (byte, bool) {
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

// next returns the first position from s where a match may start: the
// next occurrence of first (len(src)+1: none; s itself at the end, where
// only an empty match could start and first rules it out).
func (m *Matcher) next(s int, first byte) int {
	if s >= len(m.src) {
		return len(m.src) + 1
	}
	i := strings.IndexByte(m.src[s:], first)
	if i < 0 {
		return len(m.src) + 1
	}
	return s + i
}

// tick counts one unit of matching work and, every PollEvery units, asks
// poll whether to go on.
func (m *Matcher) tick() {
	m.steps++
	if m.steps%PollEvery == 0 && m.poll != nil {
		if err := m.poll(); err != nil {
			panic(abort{err})
		}
	}
}

func (m *Matcher) fail(msg string) {
	panic(abort{&Error{msg}})
}

// classEnd returns the index just after the single-character class that
// starts at p.
func (m *Matcher) classEnd(p int) int {
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
func (m *Matcher) inSet(c byte, p, ec int) bool {
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
func (m *Matcher) single(c byte, p, ep int) bool {
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
func (m *Matcher) match(s, p int) int {
	m.depth++
	if m.depth > MaxDepth {
		m.fail("pattern too complex")
	}
	r := m.doMatch(s, p)
	m.depth--
	return r
}

func (m *Matcher) doMatch(s, p int) int {
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
func (m *Matcher) maxExpand(s, p, ep int) int {
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
func (m *Matcher) minExpand(s, p, ep int) int {
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

func (m *Matcher) startCapture(s, p, what int) int {
	if m.level >= MaxCaptures {
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

func (m *Matcher) endCapture(s, p int) int {
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
func (m *Matcher) balance(s, p int) int {
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
func (m *Matcher) backRef(s int, c byte) int {
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
