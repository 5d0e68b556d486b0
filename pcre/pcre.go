// Package pcre compiles PCRE patterns (as nginx, OpenResty's ngx.re and
// Kong's router read them) onto the two regex engines luahost has: Go's
// regexp (RE2: linear time, no backtracking) whenever the pattern means
// the same there, else github.com/dlclark/regexp2 (backtracking, with
// lookaround, back references, atomic groups and possessive quantifiers)
// under a match timeout, so a catastrophic pattern fails instead of
// holding a core.
//
// It is shared by the router (router/regex.go) and ngx.re (pdk/ngx), and
// depends on neither: no Lua, no other luahost package.
package pcre

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// Flags are the compile options PCRE takes (and ngx.re's option letters
// set).
type Flags struct {
	Caseless  bool // "i"
	Multiline bool // "m": ^ and $ at line breaks
	DotAll    bool // "s"
	Extended  bool // "x": whitespace and # comments ignored
	DupNames  bool // "D": a name may be given to several groups
	Anchored  bool // "a": a match starts where the search starts
	// Longest asks for the leftmost-longest match ("d", PCRE's DFA mode);
	// only Go's engine has it, so a pattern that needs regexp2 fails.
	Longest bool
}

// DefaultTimeout bounds one backtracking match.
const DefaultTimeout = 100 * time.Millisecond

// Engine names the engine a pattern was compiled with.
type Engine string

const (
	EngineRE2     Engine = "re2"     // Go's regexp
	EngineRegexp2 Engine = "regexp2" // backtracking, PCRE-like
)

// ErrMatchLimit is a match that ran out of time or backtracking stack: PCRE's
// match limit (PCRE_ERROR_MATCHLIMIT, -8), as ngx.re reports it.
var ErrMatchLimit = errors.New("pcre_exec() failed: -8")

// CompileError is a pattern neither engine accepts.
type CompileError struct {
	Pattern string
	Msg     string
	At      int // offset in Pattern, -1 unknown
}

func (e *CompileError) Error() string {
	if e.At >= 0 && e.At <= len(e.Pattern) {
		return e.Msg + " in \"" + e.Pattern + "\" at \"" + e.Pattern[e.At:] + "\""
	}
	return e.Msg + " in \"" + e.Pattern + "\""
}

// Regex is a compiled pattern, safe for concurrent use.
type Regex struct {
	src   string
	names []string
	re2   *regexp.Regexp // nil: the pattern needs regexp2
	// bt is regexp2's compile of the pattern: always when re2 is nil;
	// else built on first need, when Go's answer would differ (a search
	// from an offset of a pattern looking back, a subject ending in "\n"
	// for a pattern with $ or \Z).
	btSrc    string
	btOpts   regexp2.RegexOptions
	btOnce   sync.Once
	bt       *regexp2.Regexp
	btErr    error
	endNL    bool
	lookBack bool
	timeout  time.Duration
}

// Compile compiles a PCRE pattern; timeout bounds each backtracking match
// (0: DefaultTimeout).
func Compile(pattern string, f Flags, timeout time.Duration) (*Regex, error) {
	t, err := translate(pattern, f)
	if err != nil {
		var ea *errAt
		if errors.As(err, &ea) {
			return nil, &CompileError{Pattern: pattern, Msg: ea.msg, At: ea.at}
		}
		return nil, &CompileError{Pattern: pattern, Msg: err.Error(), At: -1}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r := &Regex{src: pattern, names: t.names, endNL: t.endNL, lookBack: t.lookBack, timeout: timeout}
	var goFlags string
	r.btOpts = regexp2.RE2
	if f.Caseless {
		goFlags += "i"
		r.btOpts |= regexp2.IgnoreCase
	}
	if f.Multiline {
		goFlags += "m"
		r.btOpts |= regexp2.Multiline
	}
	if f.DotAll {
		goFlags += "s"
		r.btOpts |= regexp2.Singleline
	}
	goSrc, btSrc := t.goSrc, t.btSrc
	if f.Anchored {
		goSrc, btSrc = `\A(?:`+goSrc+`)`, `\G(?:`+btSrc+`)`
	}
	if goFlags != "" {
		goSrc = "(?" + goFlags + ")" + goSrc
	}
	r.btSrc = btSrc
	if re, err := regexp.Compile(goSrc); err == nil && re.NumSubexp() == len(t.names)-1 {
		if f.Longest {
			re.Longest()
		}
		r.re2 = re
		return r, nil
	}
	if f.Longest {
		return nil, &CompileError{Pattern: pattern, Msg: "pattern not supported in DFA mode", At: -1}
	}
	if _, err := r.backtracker(); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "error parsing regexp: "); i >= 0 {
			msg = msg[i+len("error parsing regexp: "):]
		}
		if i := strings.LastIndex(msg, " in `"); i >= 0 {
			msg = msg[:i]
		}
		return nil, &CompileError{Pattern: pattern, Msg: msg, At: -1}
	}
	return r, nil
}

// MustCompile is Compile for patterns known to be good (tests, constants).
func MustCompile(pattern string, f Flags) *Regex {
	r, err := Compile(pattern, f, 0)
	if err != nil {
		panic(err)
	}
	return r
}

func (r *Regex) backtracker() (*regexp2.Regexp, error) {
	r.btOnce.Do(func() {
		re, err := regexp2.Compile(r.btSrc, r.btOpts, regexp2.OptionMaintainCaptureOrder())
		if err != nil {
			r.btErr = err
			return
		}
		if len(re.GetGroupNumbers()) != len(r.names) {
			r.btErr = errors.New("capture groups miscounted")
			return
		}
		re.MatchTimeout = r.timeout
		r.bt = re
	})
	return r.bt, r.btErr
}

// String is the pattern as given.
func (r *Regex) String() string { return r.src }

// Engine is the engine the pattern compiled with.
func (r *Regex) Engine() Engine {
	if r.re2 != nil {
		return EngineRE2
	}
	return EngineRegexp2
}

// NumSubexp is the number of capture groups.
func (r *Regex) NumSubexp() int { return len(r.names) - 1 }

// Names are the groups' names by number ("" unnamed; Names()[0] is the
// whole match). Under DupNames a name may appear more than once.
func (r *Regex) Names() []string { return r.names }

// Go is the Go regexp the pattern compiled to, or nil (the router reads its
// syntax for a literal prefix).
func (r *Regex) Go() *regexp.Regexp { return r.re2 }

// MatchString reports whether s has a match.
func (r *Regex) MatchString(s string) (bool, error) {
	if r.re2 != nil && !(r.endNL && strings.HasSuffix(s, "\n")) {
		return r.re2.MatchString(s), nil
	}
	loc, err := r.FindAt(s, 0)
	return loc != nil, err
}

// FindAt finds the first match at or after byte offset start, the text
// before start seen by look-behind assertions as PCRE does: the byte
// offsets of the match and of each group (-1, -1 for a group that took no
// part), or nil. A backtracking match that exceeds its time or stack gives
// ErrMatchLimit.
func (r *Regex) FindAt(s string, start int) ([]int, error) {
	if start < 0 || start > len(s) {
		return nil, nil
	}
	useGo := r.re2 != nil && !(start > 0 && r.lookBack) && !(r.endNL && strings.HasSuffix(s, "\n"))
	var bt *regexp2.Regexp
	if !useGo {
		var err error
		if bt, err = r.backtracker(); err != nil {
			if r.re2 == nil {
				return nil, err
			}
			// a Go-only spelling regexp2 refuses: Go's answer, the
			// closest there is
			useGo = true
		}
	}
	if useGo {
		if start == 0 {
			return r.re2.FindStringSubmatchIndex(s), nil
		}
		loc := r.re2.FindStringSubmatchIndex(s[start:])
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += start
			}
		}
		return loc, nil
	}
	runes := []rune(s)
	ascii := len(runes) == len(s)
	runeStart := start
	if !ascii {
		runeStart = utf8.RuneCountInString(s[:start])
	}
	var loc []int
	err := bt.FindRunesMatches(runes, runeStart, func(v regexp2.MatchView) bool {
		loc = make([]int, 2*len(r.names))
		for i := range r.names {
			at, n, ok := v.GroupRange(i)
			if !ok {
				loc[2*i], loc[2*i+1] = -1, -1
				continue
			}
			loc[2*i], loc[2*i+1] = at, at+n
		}
		return false
	})
	if err != nil {
		return nil, ErrMatchLimit
	}
	if loc != nil && !ascii {
		offs := make([]int, 0, len(runes)+1)
		for i := range s {
			offs = append(offs, i)
		}
		offs = append(offs, len(s))
		for i, v := range loc {
			if v >= 0 {
				loc[i] = offs[v]
			}
		}
	}
	return loc, nil
}

// Next is where the search after a match [from, to) starts, as OpenResty's
// gmatch/gsub loops do: at its end, or one character further after an
// empty match (ok false: past the subject's end, the loop stops).
// OpenResty steps one byte; a whole UTF-8 sequence is stepped here, so a
// search never starts inside one.
func Next(s string, from, to int) (int, bool) {
	if to == from {
		if to >= len(s) {
			return to + 1, false
		}
		_, n := utf8.DecodeRuneInString(s[to:])
		to += n
	}
	return to, true
}
