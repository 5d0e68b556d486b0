package syntax

import "strconv"

// Token kinds. Single-character tokens are their byte value (0..255); the
// others follow.
const (
	tkAnd = 256 + iota
	tkBreak
	tkDo
	tkElse
	tkElseif
	tkEnd
	tkFalse
	tkFor
	tkFunction
	tkIf
	tkIn
	tkLocal
	tkNil
	tkNot
	tkOr
	tkRepeat
	tkReturn
	tkThen
	tkTrue
	tkUntil
	tkWhile
	tkConcat // ..
	tkDots   // ...
	tkEq     // ==
	tkGe     // >=
	tkLe     // <=
	tkNe     // ~=
	tkNumber
	tkName
	tkString
	tkEOS
)

var tokenNames = [...]string{
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
	"if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
	"until", "while", "..", "...", "==", ">=", "<=", "~=", "<number>", "<name>",
	"<string>", "<eof>",
}

var keywords = map[string]int{}

func init() {
	for t := tkAnd; t <= tkWhile; t++ {
		keywords[tokenNames[t-tkAnd]] = t
	}
}

// tokenString is how Lua 5.1 names a token kind in "'X' expected".
func tokenString(t int) string {
	if t < 256 {
		if isCntrl(byte(t)) {
			return "char(" + strconv.Itoa(t) + ")"
		}
		return string([]byte{byte(t)})
	}
	return tokenNames[t-tkAnd]
}

// token is one lexeme; start and end are byte offsets of its text in the
// source (for strings, quotes or brackets included).
type token struct {
	kind       int
	start, end int
	long       bool // a [[long]] string
}

// lexer reads tokens from src. line is the line the lexer has reached:
// Lua reports errors at this line, which is the line where the current
// token ends, or the look-ahead token when one has been read.
type lexer struct {
	src  []byte
	pos  int
	line int
}

func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool   { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool   { return isAlpha(c) || isDigit(c) }
func isCntrl(c byte) bool   { return c < 32 || c == 127 }
func isNewline(c byte) bool { return c == '\n' || c == '\r' }
func isHex(c byte) bool     { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// isIdent is LuaJIT's identifier character class: letters, digits, '_'
// and every byte >= 0x80 (PUC Lua 5.1 rejects the latter; LuaJIT accepts
// UTF-8 names).
func isIdent(c byte) bool { return isAlnum(c) || c == '_' || c >= 0x80 }

// isSpace is C's isspace without the newlines, which count lines.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

// cur is the byte at the lexer position, -1 at the end.
func (l *lexer) cur() int {
	if l.pos < len(l.src) {
		return int(l.src[l.pos])
	}
	return -1
}

func (l *lexer) peek(n int) int {
	if l.pos+n < len(l.src) {
		return int(l.src[l.pos+n])
	}
	return -1
}

// newline consumes one line break: \n, \r, \r\n or \n\r.
func (l *lexer) newline() {
	c := l.src[l.pos]
	l.pos++
	if l.pos < len(l.src) && isNewline(l.src[l.pos]) && l.src[l.pos] != c {
		l.pos++
	}
	l.line++
}

// fail reports a lexical error: msg near the text of the partial token
// (kind tkString or tkNumber from start to end), or near '<eof>' for kind
// tkEOS.
func (l *lexer) fail(msg string, t token) {
	panic(&Error{Line: l.line, Msg: msg + " near '" + nearText(l.src, t) + "'"})
}

// next scans the next token.
func (l *lexer) next() token {
	for {
		c := l.cur()
		start := l.pos
		switch {
		case c < 0:
			return token{kind: tkEOS, start: start, end: start}
		case c == '\n' || c == '\r':
			l.newline()
			continue
		case isSpace(byte(c)):
			l.pos++
			continue
		case c == '-':
			if l.peek(1) != '-' {
				l.pos++
				return token{kind: '-', start: start, end: l.pos}
			}
			l.pos += 2
			if l.cur() == '[' {
				if sep := l.skipSep(); sep >= 0 {
					l.longString(start, sep, false)
					continue
				}
			}
			for l.pos < len(l.src) && !isNewline(l.src[l.pos]) {
				l.pos++
			}
			continue
		case c == '[':
			sep := l.skipSep()
			if sep >= 0 {
				l.longString(start, sep, true)
				return token{kind: tkString, start: start, end: l.pos, long: true}
			}
			if sep == -1 {
				return token{kind: '[', start: start, end: l.pos}
			}
			l.fail("invalid long string delimiter", token{kind: tkString, start: start, end: l.pos, long: true})
		case c == '=' || c == '<' || c == '>' || c == '~':
			l.pos++
			if l.cur() != '=' {
				return token{kind: c, start: start, end: l.pos}
			}
			l.pos++
			kind := tkEq
			switch c {
			case '<':
				kind = tkLe
			case '>':
				kind = tkGe
			case '~':
				kind = tkNe
			}
			return token{kind: kind, start: start, end: l.pos}
		case c == '"' || c == '\'':
			l.shortString(byte(c))
			return token{kind: tkString, start: start, end: l.pos}
		case c == '.':
			if l.peek(1) == '.' {
				if l.peek(2) == '.' {
					l.pos += 3
					return token{kind: tkDots, start: start, end: l.pos}
				}
				l.pos += 2
				return token{kind: tkConcat, start: start, end: l.pos}
			}
			if p := l.peek(1); p < 0 || !isDigit(byte(p)) {
				l.pos++
				return token{kind: '.', start: start, end: l.pos}
			}
			l.number()
			return token{kind: tkNumber, start: start, end: l.pos}
		case isDigit(byte(c)):
			l.number()
			return token{kind: tkNumber, start: start, end: l.pos}
		case isIdent(byte(c)):
			for l.pos < len(l.src) && isIdent(l.src[l.pos]) {
				l.pos++
			}
			if n := l.pos - start; n >= 2 && n <= 8 && c >= 'a' && c <= 'w' {
				if k, ok := keywords[string(l.src[start:l.pos])]; ok {
					return token{kind: k, start: start, end: l.pos}
				}
			}
			return token{kind: tkName, start: start, end: l.pos}
		default:
			l.pos++
			return token{kind: c, start: start, end: l.pos}
		}
	}
}

// skipSep reads '[' or ']' and the '='s after it. It returns their count
// when the same bracket follows (left unread), -count-1 otherwise.
func (l *lexer) skipSep() int {
	b := l.src[l.pos]
	l.pos++
	n := 0
	for l.cur() == '=' {
		l.pos++
		n++
	}
	if l.cur() == int(b) {
		return n
	}
	return -n - 1
}

// longString reads a long string or comment whose opening bracket has
// been read but for its second '['. Unlike PUC Lua 5.1, which rejects
// "[[" inside a level-0 long string ("nesting of [[...]] is deprecated"),
// nested brackets are accepted, as LuaJIT does.
func (l *lexer) longString(start, sep int, isString bool) {
	l.pos++ // second '['
	for {
		if l.pos >= len(l.src) {
			msg := "unfinished long comment"
			if isString {
				msg = "unfinished long string"
			}
			l.fail(msg, token{kind: tkEOS})
		}
		switch l.src[l.pos] {
		case ']':
			if l.skipSep() == sep {
				l.pos++
				return
			}
		case '\n', '\r':
			l.newline()
		default:
			l.pos++
		}
	}
}

// shortString reads a quoted string. Escapes are those of Lua 5.1 (an
// unknown escape stands for the character) plus LuaJIT's \z, which skips
// the white space after it, line breaks included.
func (l *lexer) shortString(del byte) {
	start := l.pos
	l.pos++
	for {
		if l.pos >= len(l.src) {
			l.fail("unfinished string", token{kind: tkEOS})
		}
		c := l.src[l.pos]
		switch {
		case c == del:
			l.pos++
			return
		case isNewline(c):
			l.fail("unfinished string", token{kind: tkString, start: start, end: l.pos})
		case c == '\\':
			bs := l.pos
			l.pos++
			e := l.cur()
			switch {
			case e < 0:
				// unfinished: reported by the loop
			case isNewline(byte(e)):
				l.newline()
			case e == 'z':
				l.pos++
				for l.pos < len(l.src) && (isSpace(l.src[l.pos]) || isNewline(l.src[l.pos])) {
					if isNewline(l.src[l.pos]) {
						l.newline()
					} else {
						l.pos++
					}
				}
			case isDigit(byte(e)):
				v := 0
				for i := 0; i < 3 && l.pos < len(l.src) && isDigit(l.src[l.pos]); i++ {
					v = v*10 + int(l.src[l.pos]-'0')
					l.pos++
				}
				if v > 255 {
					l.fail("escape sequence too large", token{kind: tkString, start: start, end: bs})
				}
			default:
				l.pos++
			}
		default:
			l.pos++
		}
	}
}

// number reads a numeral. It is scanned as PUC Lua 5.1 scans it (digits
// and dots, an optional exponent sign, then letters, digits and '_') and
// must then be what C's strtod (or strtoul for hex) reads whole. When
// LuaJIT's wider scan (hex fractions, signed binary exponents, 0b
// binaries, LL/ULL/i suffixes) gives a longer numeral LuaJIT accepts, that
// one is taken instead: the checker never rejects a number LuaJIT reads.
func (l *lexer) number() {
	start := l.pos
	for l.pos < len(l.src) && (isDigit(l.src[l.pos]) || l.src[l.pos] == '.') {
		l.pos++
	}
	if c := l.cur(); c == 'e' || c == 'E' {
		l.pos++
		if c := l.cur(); c == '+' || c == '-' {
			l.pos++
		}
	}
	for l.pos < len(l.src) && (isAlnum(l.src[l.pos]) || l.src[l.pos] == '_') {
		l.pos++
	}
	end51 := l.pos
	ok51 := validNumber51(l.src[start:end51])

	// LuaJIT's scan
	p := start
	xp := byte('e')
	prev := l.src[p]
	if prev == '0' && p+1 < len(l.src) && l.src[p+1]|0x20 == 'x' {
		xp = 'p'
	}
	for p < len(l.src) {
		c := l.src[p]
		if !(isIdent(c) || c == '.' || ((c == '-' || c == '+') && prev|0x20 == xp)) {
			break
		}
		prev = c
		p++
	}
	if p != end51 && validNumberJIT(l.src[start:p]) {
		l.pos = p
		return
	}
	if ok51 {
		return
	}
	if validNumberJIT(l.src[start:p]) {
		l.pos = p
		return
	}
	l.fail("malformed number", token{kind: tkNumber, start: start, end: end51})
}

// digits counts the leading bytes of s in class f.
func digits(s []byte, f func(byte) bool) int {
	n := 0
	for n < len(s) && f(s[n]) {
		n++
	}
	return n
}

// decimal reports whether s is a decimal numeral, d[.d][e[+-]d], and
// whether it is an integer (no point, no exponent).
func decimal(s []byte) (ok, integer bool) {
	n := digits(s, isDigit)
	s = s[n:]
	integer = true
	if len(s) > 0 && s[0] == '.' {
		integer = false
		m := digits(s[1:], isDigit)
		n += m
		s = s[1+m:]
	}
	if n == 0 {
		return false, false
	}
	if len(s) > 0 && s[0]|0x20 == 'e' {
		integer = false
		s = s[1:]
		if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		m := digits(s, isDigit)
		if m == 0 {
			return false, false
		}
		s = s[m:]
	}
	return len(s) == 0, integer
}

// hexadecimal reports whether s (after 0x) is hex digits with an optional
// fraction and binary exponent (fraction and signed exponent only when
// jit), and whether it is an integer.
func hexadecimal(s []byte, jit bool) (ok, integer bool) {
	n := digits(s, isHex)
	s = s[n:]
	integer = true
	if jit && len(s) > 0 && s[0] == '.' {
		integer = false
		m := digits(s[1:], isHex)
		n += m
		s = s[1+m:]
	}
	if n == 0 {
		return false, false
	}
	if len(s) > 0 && s[0]|0x20 == 'p' {
		integer = false
		s = s[1:]
		if jit && len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		m := digits(s, isDigit)
		if m == 0 {
			return false, false
		}
		s = s[m:]
	}
	return len(s) == 0, integer
}

// validNumber51 is what PUC Lua 5.1 (glibc strtod, then strtoul for hex)
// reads as a number.
func validNumber51(s []byte) bool {
	if len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x' {
		ok, _ := hexadecimal(s[2:], false)
		return ok
	}
	ok, _ := decimal(s)
	return ok
}

// validNumberJIT is what LuaJIT 2.1 (with the FFI) reads as a number.
func validNumberJIT(s []byte) bool {
	intOnly := false
	switch n := len(s); {
	case n > 1 && s[n-1]|0x20 == 'i':
		s = s[:n-1]
	case n > 3 && s[n-1]|0x20 == 'u' && s[n-2]|0x20 == 'l' && s[n-3]|0x20 == 'l':
		s, intOnly = s[:n-3], true
	case n > 3 && s[n-1]|0x20 == 'l' && s[n-2]|0x20 == 'l' && s[n-3]|0x20 == 'u':
		s, intOnly = s[:n-3], true
	case n > 2 && s[n-1]|0x20 == 'l' && s[n-2]|0x20 == 'l':
		s, intOnly = s[:n-2], true
	}
	var ok, integer bool
	switch {
	case len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x':
		ok, integer = hexadecimal(s[2:], true)
	case len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'b':
		n := digits(s[2:], func(c byte) bool { return c == '0' || c == '1' })
		ok, integer = n > 0 && n == len(s)-2, true
	default:
		ok, integer = decimal(s)
	}
	return ok && (integer || !intOnly)
}
