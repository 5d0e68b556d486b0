package router

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// regexp2MatchTimeout bounds one backtracking match.
const regexp2MatchTimeout = 100 * time.Millisecond

// regexEngine names the regex engine a pattern was compiled with.
type regexEngine string

const (
	engineRE2     regexEngine = "re2"     // Go's regexp: linear time, used whenever the pattern compiles there
	engineRegexp2 regexEngine = "regexp2" // backtracking, PCRE/.NET syntax: lookaround, backreferences, atomic groups
)

// pattern is one compiled regex. Go's regexp is tried first (it is faster and
// linear-time); a pattern it rejects (lookaround, backreferences, \Z, ...) is
// compiled by regexp2 in RE2 mode (ASCII \d\s\w, (?P<name>) accepted, like Go)
// with captures numbered in pattern order, as PCRE numbers them.
type pattern struct {
	source string
	re2    *regexp.Regexp
	re     *regexp2.Regexp
	names  []string // names[i] is group i's name, "" when unnamed; names[0] = ""
	// prefix is a literal every match must start with, when the pattern is
	// anchored at the start of the text and begins with a literal (used only to
	// index routes, never to decide a match).
	prefix string
}

// regexp2's per-match backtracking stack is bounded (the default, 100 000
// slots) and each match has regexp2MatchTimeout, so that a pathological
// pattern fails to match instead of exhausting memory or a core; a failed
// evaluation counts as "no match", as Kong does when PCRE hits its match
// limit ("could not evaluate URI prefix/regex").
func compilePattern(src string) (*pattern, error) {
	p := &pattern{source: src}
	if re, err := regexp.Compile(src); err == nil {
		p.re2 = re
		p.names = re.SubexpNames()
		p.prefix = literalPrefix(src)
		return p, nil
	}
	re, err := regexp2.Compile(src, regexp2.RE2, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = regexp2MatchTimeout
	p.re = re
	p.prefix = plainLiteralPrefix(src)
	nums := re.GetGroupNumbers()
	max := 0
	for _, n := range nums {
		if n > max {
			max = n
		}
	}
	p.names = make([]string, max+1)
	for _, n := range nums {
		if name := re.GroupNameFromNumber(n); n > 0 && name != strconv.Itoa(n) {
			p.names[n] = name
		}
	}
	return p, nil
}

// engine reports which engine compiled the pattern.
func (p *pattern) engine() regexEngine {
	if p.re2 != nil {
		return engineRE2
	}
	return engineRegexp2
}

// matchString reports whether s matches, without captures.
func (p *pattern) matchString(s string) bool {
	if p.re2 != nil {
		return p.re2.MatchString(s)
	}
	ok, err := p.re.MatchString(s)
	return ok && err == nil
}

// find returns the byte offsets of the match and of every group (-1 for a
// group that did not take part), or nil.
func (p *pattern) find(s string) []int {
	if p.re2 != nil {
		return p.re2.FindStringSubmatchIndex(s)
	}
	// MatchView borrows the engine's storage: one []rune and the result
	// slice are the only allocations
	runes := []rune(s)
	var idx []int
	err := p.re.FindRunesMatches(runes, 0, func(v regexp2.MatchView) bool {
		idx = make([]int, 2*len(p.names))
		for i := range p.names {
			start, n, ok := v.GroupRange(i)
			if !ok {
				idx[2*i], idx[2*i+1] = -1, -1
				continue
			}
			idx[2*i], idx[2*i+1] = start, start+n
		}
		return false
	})
	if err != nil || idx == nil {
		return nil
	}
	if len(runes) != len(s) {
		runeToByte(s, idx)
	}
	return idx
}

// runeToByte turns rune offsets into byte offsets of s, in place.
func runeToByte(s string, idx []int) {
	offs := make([]int, 0, len(s)+1)
	for i := range s {
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	for i, v := range idx {
		if v >= 0 {
			idx[i] = offs[v]
		}
	}
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
