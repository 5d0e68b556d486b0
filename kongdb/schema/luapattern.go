package schema

import (
	"errors"
	"fmt"
)

// Lua 5.1 patterns (string.match / string.find), which the match,
// not_match, match_all, match_none and match_any validators use: Kong runs
// value:match(pattern), not a regular expression. This is our own
// implementation of the Lua 5.1 reference manual §5.4.1, so that the schema
// package needs no Lua runtime.

const (
	luaMaxCaptures = 32
	capUnfinished  = -1
	capPosition    = -2
	luaMaxCalls    = 200 // Lua's MAXCCALLS guard against runaway recursion
)

// errPatternTooComplex mirrors Lua's "pattern too complex" error.
var errPatternTooComplex = errors.New("pattern too complex")

type luaMatchState struct {
	src     string
	pat     string
	level   int
	capture [luaMaxCaptures]struct{ init, len int }
	depth   int
}

type luaPatternError struct{ msg string }

func (e *luaPatternError) Error() string { return e.msg }

// LuaMatch reports whether Lua's string.match(s, pattern) finds a match. A
// malformed pattern is an error with Lua's message.
func LuaMatch(s, pattern string) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, isPE := r.(*luaPatternError)
			if !isPE {
				panic(r)
			}
			ok, err = false, pe
		}
	}()
	ms := &luaMatchState{src: s, pat: pattern}
	p := 0
	anchor := len(pattern) > 0 && pattern[0] == '^'
	if anchor {
		p = 1
	}
	for si := 0; ; si++ {
		ms.level = 0
		ms.depth = 0
		if ms.match(si, p) >= 0 {
			// string.match pushes the captures of a match: an open one
			// raises (lstrlib.c push_onecapture), a failed match does not.
			for l := 0; l < ms.level; l++ {
				if ms.capture[l].len == capUnfinished {
					ms.fail("unfinished capture")
				}
			}
			return true, nil
		}
		if anchor || si >= len(s) {
			return false, nil
		}
	}
}

func (ms *luaMatchState) fail(format string, a ...any) {
	panic(&luaPatternError{fmt.Sprintf(format, a...)})
}

func (ms *luaMatchState) classEnd(p int) int {
	pat := ms.pat
	c := pat[p]
	p++
	if c == '%' {
		if p >= len(pat) {
			ms.fail("malformed pattern (ends with '%%')")
		}
		return p + 1
	}
	if c == '[' {
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for { // look for a ']' (the first class char is taken as is: "[]]")
			if p >= len(pat) {
				ms.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++
			}
			if p >= len(pat) {
				ms.fail("malformed pattern (missing ']')")
			}
			if pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
func isCntrl(c byte) bool { return c < 32 || c == 127 }
func isPunct(c byte) bool { return c > 32 && c < 127 && !isAlpha(c) && !isDigit(c) }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isXDigit(c byte) bool {
	return isDigit(c) || ((c|0x20) >= 'a' && (c|0x20) <= 'f')
}

func singleClass(c, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = isCntrl(c)
	case 'd':
		res = isDigit(c)
	case 'l':
		res = isLower(c)
	case 'p':
		res = isPunct(c)
	case 's':
		res = isSpace(c)
	case 'u':
		res = isUpper(c)
	case 'w':
		res = isAlpha(c) || isDigit(c)
	case 'x':
		res = isXDigit(c)
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if isUpper(cl) {
		return !res
	}
	return res
}

// matchBracketClass: p at '[', ec at the closing ']'.
func (ms *luaMatchState) matchBracketClass(c byte, p, ec int) bool {
	pat := ms.pat
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		if pat[p] == '%' {
			p++
			if singleClass(c, pat[p]) {
				return sig
			}
		} else if p+2 < ec && pat[p+1] == '-' {
			if pat[p] <= c && c <= pat[p+2] {
				return sig
			}
			p += 2
		} else if pat[p] == c {
			return sig
		}
	}
	return !sig
}

func (ms *luaMatchState) singleMatch(si, p, ep int) bool {
	if si >= len(ms.src) {
		return false
	}
	c := ms.src[si]
	switch ms.pat[p] {
	case '.':
		return true
	case '%':
		return singleClass(c, ms.pat[p+1])
	case '[':
		return ms.matchBracketClass(c, p, ep-1)
	default:
		return ms.pat[p] == c
	}
}

// match returns the end index in src of a match of pat[p:] at si, or -1.
func (ms *luaMatchState) match(si, p int) int {
	ms.depth++
	if ms.depth > luaMaxCalls {
		ms.fail("%s", errPatternTooComplex.Error())
	}
	defer func() { ms.depth-- }()
	pat := ms.pat
	for {
		if p >= len(pat) {
			return si
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return ms.startCapture(si, p+2, capPosition)
			}
			return ms.startCapture(si, p+1, capUnfinished)
		case ')':
			return ms.endCapture(si, p+1)
		case '%':
			if p+1 < len(pat) {
				switch pat[p+1] {
				case 'b':
					si = ms.matchBalance(si, p+2)
					if si == -1 {
						return -1
					}
					p += 4
					continue
				case 'f':
					p += 2
					if p >= len(pat) || pat[p] != '[' {
						ms.fail("missing '[' after '%%f' in pattern")
					}
					ep := ms.classEnd(p)
					var prev byte
					if si > 0 {
						prev = ms.src[si-1]
					}
					var cur byte
					if si < len(ms.src) {
						cur = ms.src[si]
					}
					if ms.matchBracketClass(prev, p, ep-1) || !ms.matchBracketClass(cur, p, ep-1) {
						return -1
					}
					p = ep
					continue
				default:
					if isDigit(pat[p+1]) {
						si = ms.matchCapture(si, pat[p+1])
						if si == -1 {
							return -1
						}
						p += 2
						continue
					}
				}
			}
		case '$':
			if p+1 == len(pat) {
				if si == len(ms.src) {
					return si
				}
				return -1
			}
		}
		// default: a single char class with an optional repetition suffix
		ep := ms.classEnd(p)
		m := ms.singleMatch(si, p, ep)
		var suffix byte
		if ep < len(pat) {
			suffix = pat[ep]
		}
		switch suffix {
		case '?':
			if m {
				if res := ms.match(si+1, ep+1); res != -1 {
					return res
				}
			}
			p = ep + 1
			continue
		case '*':
			return ms.maxExpand(si, p, ep)
		case '+':
			if !m {
				return -1
			}
			return ms.maxExpand(si+1, p, ep)
		case '-':
			return ms.minExpand(si, p, ep)
		default:
			if !m {
				return -1
			}
			si++
			p = ep
			continue
		}
	}
}

func (ms *luaMatchState) maxExpand(si, p, ep int) int {
	i := 0
	for ms.singleMatch(si+i, p, ep) {
		i++
	}
	for i >= 0 {
		if res := ms.match(si+i, ep+1); res != -1 {
			return res
		}
		i--
	}
	return -1
}

func (ms *luaMatchState) minExpand(si, p, ep int) int {
	for {
		if res := ms.match(si, ep+1); res != -1 {
			return res
		}
		if ms.singleMatch(si, p, ep) {
			si++
		} else {
			return -1
		}
	}
}

func (ms *luaMatchState) startCapture(si, p, what int) int {
	if ms.level >= luaMaxCaptures {
		ms.fail("too many captures")
	}
	ms.capture[ms.level].init = si
	ms.capture[ms.level].len = what
	ms.level++
	res := ms.match(si, p)
	if res == -1 {
		ms.level--
	}
	return res
}

func (ms *luaMatchState) endCapture(si, p int) int {
	l := -1
	for lv := ms.level - 1; lv >= 0; lv-- {
		if ms.capture[lv].len == capUnfinished {
			l = lv
			break
		}
	}
	if l < 0 {
		ms.fail("invalid pattern capture")
	}
	ms.capture[l].len = si - ms.capture[l].init
	res := ms.match(si, p)
	if res == -1 {
		ms.capture[l].len = capUnfinished
	}
	return res
}

func (ms *luaMatchState) matchBalance(si, p int) int {
	if p+1 >= len(ms.pat) {
		ms.fail("unbalanced pattern")
	}
	if si >= len(ms.src) || ms.src[si] != ms.pat[p] {
		return -1
	}
	b, e := ms.pat[p], ms.pat[p+1]
	cont := 1
	for i := si + 1; i < len(ms.src); i++ {
		switch ms.src[i] {
		case e:
			cont--
			if cont == 0 {
				return i + 1
			}
		case b:
			cont++
		}
	}
	return -1
}

func (ms *luaMatchState) matchCapture(si int, lc byte) int {
	l := int(lc - '1')
	if l < 0 || l >= ms.level || ms.capture[l].len == capUnfinished {
		ms.fail("invalid capture index")
	}
	c := ms.capture[l]
	if c.len < 0 {
		return -1 // position capture cannot be back-referenced meaningfully
	}
	cap := ms.src[c.init : c.init+c.len]
	if len(ms.src)-si >= len(cap) && ms.src[si:si+len(cap)] == cap {
		return si + len(cap)
	}
	return -1
}
