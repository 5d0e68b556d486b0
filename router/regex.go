package router

import (
	"regexp/syntax"
	"strings"
	"time"

	"github.com/luahost/luahost/pcre"
)

// regexMatchTimeout bounds one backtracking match.
const regexMatchTimeout = 100 * time.Millisecond

// regexEngine names the regex engine a pattern was compiled with.
type regexEngine = pcre.Engine

const (
	engineRE2     = pcre.EngineRE2     // Go's regexp: linear time, used whenever the pattern means the same there
	engineRegexp2 = pcre.EngineRegexp2 // backtracking, PCRE-like: lookaround, backreferences, atomic groups
)

// pattern is one compiled regex, compiled by package pcre (shared with
// ngx.re): Go's regexp when it can, regexp2 otherwise, captures numbered in
// pattern order, as PCRE numbers them.
type pattern struct {
	source string
	re     *pcre.Regex
	names  []string // names[i] is group i's name, "" when unnamed; names[0] = ""
	// prefix is a literal every match must start with, when the pattern is
	// anchored at the start of the text and begins with a literal (used only to
	// index routes, never to decide a match).
	prefix string
}

// A backtracking match has regexMatchTimeout (and regexp2's bounded
// stack), so that a pathological pattern fails to match instead of
// exhausting memory or a core; a failed evaluation counts as "no match",
// as Kong does when PCRE hits its match limit ("could not evaluate URI
// prefix/regex").
func compilePattern(src string) (*pattern, error) {
	re, err := pcre.Compile(src, pcre.Flags{}, regexMatchTimeout)
	if err != nil {
		return nil, err
	}
	p := &pattern{source: src, re: re, names: re.Names()}
	if re.Engine() == pcre.EngineRE2 {
		p.prefix = literalPrefix(src)
	} else {
		p.prefix = plainLiteralPrefix(src)
	}
	return p, nil
}

// engine reports which engine compiled the pattern.
func (p *pattern) engine() regexEngine { return p.re.Engine() }

// matchString reports whether s matches, without captures.
func (p *pattern) matchString(s string) bool {
	ok, err := p.re.MatchString(s)
	return ok && err == nil
}

// find returns the byte offsets of the match and of every group (-1 for a
// group that did not take part), or nil.
func (p *pattern) find(s string) []int {
	idx, err := p.re.FindAt(s, 0)
	if err != nil {
		return nil
	}
	return idx
}

// literalPrefix returns the literal text every match of the (RE2-compatible)
// pattern starts with, if the pattern is anchored at the beginning of the
// text: "^/users/\d+" gives "/users/", "^/a|/b" gives "".
func literalPrefix(src string) string {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	var b []rune
	for _, sub := range re.Sub[1:] {
		if sub.Op != syntax.OpLiteral || sub.Flags&syntax.FoldCase != 0 {
			break
		}
		b = append(b, sub.Rune...)
	}
	return string(b)
}

// plainLiteralPrefix is literalPrefix for patterns Go cannot parse: after a
// leading '^', the run of characters that are literal in every flavour, minus
// a last one a quantifier applies to. Patterns with '|' anywhere, or starting
// with anything else, give "" (no index, still correct).
func plainLiteralPrefix(src string) string {
	if !strings.HasPrefix(src, "^") || strings.IndexByte(src, '|') >= 0 {
		return ""
	}
	s := src[1:]
	n := 0
	for n < len(s) && isPlainLiteral(s[n]) {
		n++
	}
	if n < len(s) && strings.IndexByte("?*+{", s[n]) >= 0 && n > 0 {
		n--
	}
	return s[:n]
}

func isPlainLiteral(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("/-_~%=&;:,@!'\"<>", c) >= 0
}
