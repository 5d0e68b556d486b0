package ngx

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pcre"
	"github.com/luahost/luahost/pdk/bind"
)

// ngx.re follows OpenResty's lua-resty-core (the ngx.re Kong runs) on
// PCRE patterns compiled by package pcre: Go's regexp when the pattern
// means the same there, regexp2 (backtracking) for lookaround, back
// references, atomic groups and possessive quantifiers, under a match
// timeout reported as PCRE's match limit ("pcre_exec() failed: -8").
// Differences a plugin may meet:
//   - the subject is matched as UTF-8 with or without "u" ("." takes a
//     whole character, where PCRE without "u" takes one byte), and "i"
//     folds Unicode case;
//   - \K, branch reset groups (?|...), recursion and callouts do not
//     compile (nil plus the error);
//   - "d" (DFA mode) gives the leftmost-longest match on Go's engine and
//     refuses patterns that need regexp2; "j", "o", "J" and "U" are
//     accepted and change nothing (compiled patterns are always cached).

// RegexCache holds ngx.re's compiled patterns for every worker of a
// pdk.Root (which holds one). Set MaxEntries and Warn before the first
// use; the rest of the zero value is ready.
type RegexCache struct {
	// MaxEntries, asked once when the first pattern is stored, is
	// lua_regex_cache_max_entries (nil: DefaultRegexCacheMaxEntries; 0
	// caches nothing).
	MaxEntries func() int64
	// Warn logs the warning given once when the cache is full (nil: none).
	Warn func(msg string)
	// Timeout bounds one backtracking match (0: pcre.DefaultTimeout);
	// set before the first use.
	Timeout time.Duration

	m       sync.Map // "flags\x00pattern" -> *compiled
	count   atomic.Int64
	full    atomic.Bool
	maxOnce sync.Once
	maxN    int64
}

// compiled is a cached pattern with the ngx.re flags that act after the
// match.
type compiled struct {
	re       *pcre.Regex
	dupNames bool
	dfa      bool
}

// Len is the number of patterns the cache holds.
func (r *RegexCache) Len() int { return int(r.count.Load()) }

func (r *RegexCache) max() int64 {
	r.maxOnce.Do(func() {
		r.maxN = DefaultRegexCacheMaxEntries
		if r.MaxEntries != nil {
			r.maxN = r.MaxEntries()
		}
	})
	return r.maxN
}

// compile compiles regex with ngx.re options, through the cache. An
// unknown option letter raises, as lua-resty-core does (error(..., 3):
// at the caller of ngx.re.*).
func (r *RegexCache) compile(L *lua.LState, pattern, opts string) (*compiled, error) {
	key := opts + "\x00" + pattern
	if c, ok := r.m.Load(key); ok {
		return c.(*compiled), nil
	}
	var f pcre.Flags
	c := &compiled{}
	for i := 0; i < len(opts); i++ {
		switch opts[i] {
		case 'i':
			f.Caseless = true
		case 'm':
			f.Multiline = true
		case 's':
			f.DotAll = true
		case 'x':
			f.Extended = true
		case 'a':
			f.Anchored = true
		case 'D':
			f.DupNames, c.dupNames = true, true
		case 'd':
			f.Longest, c.dfa = true, true
		case 'j', 'o', 'u', 'U', 'J':
		default:
			bind.RaiseAtCaller(L, "unknown flag \""+opts[i:i+1]+"\" (flags \""+opts+"\")")
		}
	}
	re, err := pcre.Compile(pattern, f, r.Timeout)
	if err != nil {
		return nil, errString("pcre_compile() failed: " + err.Error())
	}
	c.re = re
	r.store(key, c)
	return c, nil
}

// DefaultRegexCacheMaxEntries is lua_regex_cache_max_entries' default
// (OpenResty's).
const DefaultRegexCacheMaxEntries = 1024

// store keeps a compiled pattern while the cache holds fewer than
// lua_regex_cache_max_entries; past that, patterns are compiled on every
// call, as OpenResty does (a pattern built from request data would
// otherwise grow the cache without end).
func (r *RegexCache) store(key string, c *compiled) {
	max := r.max()
	if r.count.Add(1) > max {
		r.count.Add(-1)
		if r.full.CompareAndSwap(false, true) && r.Warn != nil {
			r.Warn("lua exceeding regex cache max entries (" + strconv.FormatInt(max, 10) + ")")
		}
		return
	}
	if _, loaded := r.m.LoadOrStore(key, c); loaded {
		r.count.Add(-1)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// NewRe returns the ngx.re table (match, find, gmatch, sub, gsub) of a
// state, compiling through c.
func NewRe(L *lua.LState, c *RegexCache) *lua.LTable {
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"match":  c.reMatch,
		"find":   c.reFind,
		"gmatch": c.reGmatch,
		"sub":    func(L *lua.LState) int { return c.reSub(L, false) },
		"gsub":   func(L *lua.LState) int { return c.reSub(L, true) },
	})
	return t
}

// reArgs reads (subject, regex, options) and compiles.
func (c *RegexCache) reArgs(L *lua.LState) (string, *compiled, error) {
	subj := luavm.CheckString(L, 1)
	pat := luavm.CheckString(L, 2)
	re, err := c.compile(L, pat, bind.OptString(L, 3))
	return subj, re, err
}

// ctxPos reads ctx.pos (1-based) from the table at n, if any.
func ctxPos(L *lua.LState, n int) (*lua.LTable, int) {
	ctx, ok := L.Get(n).(*lua.LTable)
	if !ok {
		return nil, 0
	}
	if p, ok := ctx.RawGetString("pos").(lua.LNumber); ok && p > 1 {
		return ctx, int(p) - 1
	}
	return ctx, 0
}

// captures fills ngx.re's captures table (res, or a new one): [0] the whole
// match, [1..n] the groups, false for a group that took no part; a named
// group also by name (false when unmatched), or under "D" the name holds
// the array of its matched groups' values.
func captures(L *lua.LState, c *compiled, subj string, loc []int, res *lua.LTable) *lua.LTable {
	names := c.re.Names()
	if res == nil {
		res = L.CreateTable(len(names)-1, 1)
	}
	for g := 0; g < len(names); g++ {
		var v lua.LValue = lua.LFalse
		if loc[2*g] >= 0 && (g == 0 || !c.dfa) {
			v = lua.LString(subj[loc[2*g]:loc[2*g+1]])
		}
		res.RawSetInt(g, v)
	}
	for g := 1; g < len(names); g++ {
		name := names[g]
		if name == "" {
			continue
		}
		v := res.RawGetInt(g)
		if !c.dupNames {
			res.RawSetString(name, v)
			continue
		}
		if v == lua.LFalse {
			continue
		}
		if arr, ok := res.RawGetString(name).(*lua.LTable); ok {
			arr.Append(v)
		} else {
			arr := L.CreateTable(2, 0)
			arr.Append(v)
			res.RawSetString(name, arr)
		}
	}
	return res
}

func pushReErr(L *lua.LState, n int, err error) int {
	for i := 0; i < n; i++ {
		L.Push(lua.LNil)
	}
	L.Push(lua.LString(err.Error()))
	return n + 1
}

// reMatch is ngx.re.match(subject, regex, options?, ctx?, res_table?).
func (c *RegexCache) reMatch(L *lua.LState) int {
	subj, re, err := c.reArgs(L)
	if err != nil {
		return pushReErr(L, 1, err)
	}
	ctx, start := ctxPos(L, 4)
	loc, err := re.re.FindAt(subj, start)
	if err != nil {
		return pushReErr(L, 1, err)
	}
	if loc == nil {
		L.Push(lua.LNil)
		return 1
	}
	if ctx != nil {
		ctx.RawSetString("pos", lua.LNumber(loc[1]+1))
	}
	res, _ := L.Get(5).(*lua.LTable)
	L.Push(captures(L, re, subj, loc, res))
	return 1
}

// reFind is ngx.re.find(subject, regex, options?, ctx?, nth?): the 1-based
// inclusive bounds of the match (or of its nth group).
func (c *RegexCache) reFind(L *lua.LState) int {
	subj, re, err := c.reArgs(L)
	if err != nil {
		return pushReErr(L, 2, err)
	}
	ctx, start := ctxPos(L, 4)
	nth := L.OptInt(5, 0)
	loc, err := re.re.FindAt(subj, start)
	if err != nil {
		return pushReErr(L, 2, err)
	}
	if loc == nil {
		L.Push(lua.LNil)
		return 1
	}
	if ctx != nil {
		ctx.RawSetString("pos", lua.LNumber(loc[1]+1))
	}
	if nth < 0 {
		nth = 0
	}
	if nth > re.re.NumSubexp() {
		return pushReErr(L, 2, errString("nth out of bound"))
	}
	if loc[2*nth] < 0 || (re.dfa && nth > 0) {
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 2
	}
	L.Push(lua.LNumber(loc[2*nth] + 1))
	L.Push(lua.LNumber(loc[2*nth+1]))
	return 2
}

// reGmatch is ngx.re.gmatch(subject, regex, options?): an iterator giving
// one captures table per match, then nil (or nil and the error of a match
// that failed, after which it is exhausted).
func (c *RegexCache) reGmatch(L *lua.LState) int {
	subj, re, err := c.reArgs(L)
	if err != nil {
		return pushReErr(L, 1, err)
	}
	pos, live := 0, true
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if !live {
			L.Push(lua.LNil)
			return 1
		}
		loc, err := re.re.FindAt(subj, pos)
		if err != nil || loc == nil {
			live = false
			if err != nil {
				return pushReErr(L, 1, err)
			}
			L.Push(lua.LNil)
			return 1
		}
		pos, live = pcre.Next(subj, loc[0], loc[1])
		L.Push(captures(L, re, subj, loc, nil))
		return 1
	}))
	return 1
}

// reSub is ngx.re.sub/gsub(subject, regex, replace, options?): replace is a
// template ("$0", "$1", "${1}", "$$") or a function given the captures
// table, whose result goes through tostring; returns the new string and
// the number of substitutions, or nil, nil and the error.
func (c *RegexCache) reSub(L *lua.LState, global bool) int {
	subj := luavm.CheckString(L, 1)
	pat := luavm.CheckString(L, 2)
	repl := L.Get(3)
	var tmpl []tmplPart
	fn, isFn := repl.(*lua.LFunction)
	if !isFn {
		s, ok := repl.(lua.LString)
		if !ok {
			if n, isNum := repl.(lua.LNumber); isNum {
				s = lua.LString(luavm.FormatNumber(float64(n)))
			} else {
				L.ArgError(3, "string, number, or function expected, got "+repl.Type().String())
			}
		}
		var err error
		if tmpl, err = parseTemplate(string(s)); err != nil {
			return pushReErr(L, 2, err)
		}
	}
	re, err := c.compile(L, pat, bind.OptString(L, 4))
	if err != nil {
		return pushReErr(L, 2, err)
	}
	var b strings.Builder
	count, pos, last := 0, 0, 0
	for {
		loc, err := re.re.FindAt(subj, pos)
		if err != nil {
			return pushReErr(L, 2, err)
		}
		if loc == nil {
			break
		}
		count++
		b.WriteString(subj[last:loc[0]])
		if isFn {
			L.Push(fn)
			L.Push(captures(L, re, subj, loc, nil))
			L.Call(1, 1)
			ret := L.Get(-1)
			L.Pop(1)
			b.WriteString(string(luavm.TostringValue(L, ret).(lua.LString)))
		} else {
			for _, p := range tmpl {
				if p.group < 0 {
					b.WriteString(p.lit)
					continue
				}
				g := p.group
				if 2*g+1 < len(loc) && loc[2*g] >= 0 && (g == 0 || !re.dfa) {
					b.WriteString(subj[loc[2*g]:loc[2*g+1]])
				}
			}
		}
		last = loc[1]
		var more bool
		if pos, more = pcre.Next(subj, loc[0], loc[1]); !more || !global {
			break
		}
	}
	if count == 0 {
		L.Push(lua.LString(subj))
		L.Push(lua.LNumber(0))
		return 2
	}
	b.WriteString(subj[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(count))
	return 2
}

// tmplPart is a literal (group -1) or a capture reference.
type tmplPart struct {
	lit   string
	group int
}

// errTemplate is lua-resty-core's error for a replacement template the
// script compiler refuses: a "$" not followed by "$", digits or "{digits}"
// (named captures are "not supported yet" there).
var errTemplate = errString("failed to compile the replacement template")

func parseTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, tmplPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return nil, errTemplate
		}
		switch c := s[i+1]; {
		case c == '$':
			lit.WriteByte('$')
			i++
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil {
				return nil, errTemplate
			}
			flush()
			parts = append(parts, tmplPart{group: n})
			i = j - 1
		case c == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end <= 0 {
				return nil, errTemplate
			}
			n, err := strconv.Atoi(s[i+2 : i+2+end])
			if err != nil || n < 0 || s[i+2] == '+' || s[i+2] == '-' {
				return nil, errTemplate
			}
			flush()
			parts = append(parts, tmplPart{group: n})
			i += 2 + end
		default:
			return nil, errTemplate
		}
	}
	flush()
	return parts, nil
}

// OpenReModule preloads lua-resty-core's "ngx.re" module in L: split and
// opt (opt accepts PCRE tunables and ignores them).
func OpenReModule(L *lua.LState, c *RegexCache) {
	L.PreloadModule("ngx.re", func(L *lua.LState) int {
		m := L.NewTable()
		L.SetFuncs(m, map[string]lua.LGFunction{
			"split": c.reSplit,
			"opt":   func(L *lua.LState) int { return 0 },
		})
		L.Push(m)
		return 1
	})
}

// reSplit is ngx.re.split(subject, regex, options?, ctx?, max?, res?): the
// pieces between matches, the first capture (when the regex has one)
// inserted between them, a trailing empty piece dropped; max > 0 caps the
// number of pieces (the last holds the rest); "" splits into bytes.
func (c *RegexCache) reSplit(L *lua.LState) int {
	subj := luavm.CheckString(L, 1)
	pat := luavm.CheckString(L, 2)
	_, start := ctxPos(L, 4)
	max := L.OptInt(5, 0)
	res, ok := L.Get(6).(*lua.LTable)
	if !ok {
		res = L.NewTable()
	}
	var out []string
	if pat == "" {
		for i := start; i < len(subj); i++ {
			if max > 0 && len(out) == max-1 {
				out = append(out, subj[i:])
				break
			}
			out = append(out, subj[i:i+1])
		}
	} else {
		re, err := c.compile(L, pat, bind.OptString(L, 3))
		if err != nil {
			return pushReErr(L, 1, err)
		}
		last, pos := start, start
		for max <= 0 || len(out) < max-1 {
			loc, err := re.re.FindAt(subj, pos)
			if err != nil {
				return pushReErr(L, 1, err)
			}
			if loc == nil {
				break
			}
			from, to := loc[0], loc[1]
			if !(from == to && (from == start || from == len(subj))) { // an empty match at either end splits nothing
				out = append(out, subj[last:from])
				if len(loc) > 2 && loc[2] >= 0 {
					out = append(out, subj[loc[2]:loc[3]])
				}
				last = to
			}
			var more bool
			if pos, more = pcre.Next(subj, from, to); !more {
				break
			}
		}
		if last < len(subj) {
			out = append(out, subj[last:])
		}
	}
	n := res.Len()
	for i, s := range out {
		res.RawSetInt(i+1, lua.LString(s))
	}
	for i := len(out) + 1; i <= n; i++ {
		res.RawSetInt(i, lua.LNil)
	}
	L.Push(res)
	return 1
}
