package ngx

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// ngx.re runs on Go's regexp (RE2), not PCRE. Differences a plugin may meet:
//   - no backreferences, lookahead or lookbehind, possessive quantifiers or
//     atomic groups: such a pattern fails to compile and the call returns
//     nil plus an error, as a bad PCRE pattern does;
//   - "$" without "m" matches only at the very end (PCRE also matches before
//     a final "\n"), and "\Z" is read as "\z";
//   - a start position (ctx.pos) slices the subject, so "^" and "\b" see the
//     slice's start as the subject's start;
//   - the "x" (extended) option is refused; "j", "o", "d", "D", "J", "u", "U"
//     are accepted and ignored (compiled patterns are always cached per
//     Root), "a" anchors the match at the start position.

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

	m       sync.Map // "flags\x00pattern" -> *regexp.Regexp
	count   atomic.Int64
	full    atomic.Bool
	maxOnce sync.Once
	maxN    int64
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

// compile compiles regex with ngx.re options, through the cache.
func (r *RegexCache) compile(pattern, opts string) (*regexp.Regexp, bool, error) {
	key := opts + "\x00" + pattern
	anchored := strings.IndexByte(opts, 'a') >= 0
	if re, ok := r.m.Load(key); ok {
		return re.(*regexp.Regexp), anchored, nil
	}
	var flags strings.Builder
	for _, c := range opts {
		switch c {
		case 'i', 'm', 's':
			flags.WriteRune(c)
		case 'j', 'o', 'd', 'D', 'J', 'u', 'U', 'a':
		case 'x':
			return nil, false, errString("pcre_compile() failed: the \"x\" option is not supported")
		default:
			return nil, false, errString("unknown flag \"" + string(c) + "\" (flags \"" + opts + "\")")
		}
	}
	src := strings.ReplaceAll(pattern, `\Z`, `\z`)
	if flags.Len() > 0 {
		src = "(?" + flags.String() + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, false, errString("pcre_compile() failed: " + err.Error() + " in \"" + pattern + "\"")
	}
	r.store(key, re)
	return re, anchored, nil
}

// DefaultRegexCacheMaxEntries is lua_regex_cache_max_entries' default
// (OpenResty's).
const DefaultRegexCacheMaxEntries = 1024

// store keeps a compiled pattern while the cache holds fewer than
// lua_regex_cache_max_entries; past that, patterns are compiled on every
// call, as OpenResty does (a pattern built from request data would
// otherwise grow the cache without end).
func (r *RegexCache) store(key string, re *regexp.Regexp) {
	max := r.max()
	if r.count.Add(1) > max {
		r.count.Add(-1)
		if r.full.CompareAndSwap(false, true) && r.Warn != nil {
			r.Warn("lua exceeding regex cache max entries (" + strconv.FormatInt(max, 10) + ")")
		}
		return
	}
	if _, loaded := r.m.LoadOrStore(key, re); loaded {
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
func (c *RegexCache) reArgs(L *lua.LState) (string, *regexp.Regexp, bool, error) {
	subj := luavm.CheckString(L, 1)
	pat := luavm.CheckString(L, 2)
	re, anchored, err := c.compile(pat, L.OptString(3, ""))
	return subj, re, anchored, err
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

// matchAt finds the first match at or after byte offset start; the indexes
// returned are absolute.
func matchAt(re *regexp.Regexp, subj string, start int, anchored bool) []int {
	if start > len(subj) {
		return nil
	}
	loc := re.FindStringSubmatchIndex(subj[start:])
	if loc == nil || (anchored && loc[0] != 0) {
		return nil
	}
	for i := range loc {
		if loc[i] >= 0 {
			loc[i] += start
		}
	}
	return loc
}

// captures builds ngx.re's captures table: [0] the whole match, [1..n] the
// groups, named groups also by name; an unmatched group is false.
func captures(L *lua.LState, re *regexp.Regexp, subj string, loc []int) *lua.LTable {
	names := re.SubexpNames()
	t := L.CreateTable(len(names)-1, 1)
	for g := 0; g < len(names); g++ {
		var v lua.LValue = lua.LFalse
		if loc[2*g] >= 0 {
			v = lua.LString(subj[loc[2*g]:loc[2*g+1]])
		}
		t.RawSetInt(g, v)
		if names[g] != "" {
			t.RawSetString(names[g], v)
		}
	}
	return t
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
	subj, re, anchored, err := c.reArgs(L)
	if err != nil {
		return pushReErr(L, 1, err)
	}
	ctx, start := ctxPos(L, 4)
	loc := matchAt(re, subj, start, anchored)
	if loc == nil {
		L.Push(lua.LNil)
		return 1
	}
	if ctx != nil {
		ctx.RawSetString("pos", lua.LNumber(loc[1]+1))
	}
	L.Push(captures(L, re, subj, loc))
	return 1
}

// reFind is ngx.re.find(subject, regex, options?, ctx?, nth?): the 1-based
// inclusive bounds of the match (or of its nth group).
func (c *RegexCache) reFind(L *lua.LState) int {
	subj, re, anchored, err := c.reArgs(L)
	if err != nil {
		return pushReErr(L, 2, err)
	}
	ctx, start := ctxPos(L, 4)
	nth := L.OptInt(5, 0)
	loc := matchAt(re, subj, start, anchored)
	if loc == nil {
		L.Push(lua.LNil)
		return 1
	}
	if ctx != nil {
		ctx.RawSetString("pos", lua.LNumber(loc[1]+1))
	}
	if nth < 0 || 2*nth+1 >= len(loc) || loc[2*nth] < 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(loc[2*nth] + 1))
	L.Push(lua.LNumber(loc[2*nth+1]))
	return 2
}

// reGmatch is ngx.re.gmatch(subject, regex, options?): an iterator giving one
// captures table per match, then nil.
func (c *RegexCache) reGmatch(L *lua.LState) int {
	subj, re, _, err := c.reArgs(L)
	if err != nil {
		return pushReErr(L, 1, err)
	}
	var all [][]int
	done := false
	i := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if !done {
			all = re.FindAllStringSubmatchIndex(subj, -1)
			done = true
		}
		if i >= len(all) {
			L.Push(lua.LNil)
			return 1
		}
		loc := all[i]
		i++
		L.Push(captures(L, re, subj, loc))
		return 1
	}))
	return 1
}

// reSub is ngx.re.sub/gsub(subject, regex, replace, options?): replace is a
// template ("$0", "$1", "${name}", "$$") or a function given the captures
// table; returns the new string and the number of substitutions.
func (c *RegexCache) reSub(L *lua.LState, global bool) int {
	subj := luavm.CheckString(L, 1)
	pat := luavm.CheckString(L, 2)
	repl := L.Get(3)
	re, anchored, err := c.compile(pat, L.OptString(4, ""))
	if err != nil {
		return pushReErr(L, 2, err)
	}
	var tmpl []tmplPart
	fn, isFn := repl.(*lua.LFunction)
	if !isFn {
		s, ok := repl.(lua.LString)
		if !ok {
			if n, isNum := repl.(lua.LNumber); isNum {
				s = lua.LString(n.String())
			} else {
				L.ArgError(3, "string, number, or function expected, got "+repl.Type().String())
			}
		}
		if tmpl, err = parseTemplate(string(s)); err != nil {
			return pushReErr(L, 2, err)
		}
	}
	var locs [][]int
	if global {
		locs = re.FindAllStringSubmatchIndex(subj, -1)
	} else if loc := matchAt(re, subj, 0, anchored); loc != nil {
		locs = [][]int{loc}
	}
	if anchored && global {
		// "a": only matches chained from the start count
		k, end := 0, 0
		for k < len(locs) && locs[k][0] == end {
			end = locs[k][1]
			k++
		}
		locs = locs[:k]
	}
	if len(locs) == 0 {
		L.Push(lua.LString(subj))
		L.Push(lua.LNumber(0))
		return 2
	}
	names := re.SubexpNames()
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		b.WriteString(subj[last:loc[0]])
		if isFn {
			L.Push(fn)
			L.Push(captures(L, re, subj, loc))
			L.Call(1, 1)
			ret := L.Get(-1)
			L.Pop(1)
			switch v := ret.(type) {
			case lua.LString, lua.LNumber:
				b.WriteString(v.String())
			default:
				L.RaiseError("attempt to use %s as the replacement", ret.Type().String())
			}
		} else {
			for _, p := range tmpl {
				if p.group < 0 && p.name == "" {
					b.WriteString(p.lit)
					continue
				}
				g := p.group
				if p.name != "" {
					g = -1
					for i, n := range names {
						if n == p.name {
							g = i
						}
					}
				}
				if g >= 0 && 2*g+1 < len(loc) && loc[2*g] >= 0 {
					b.WriteString(subj[loc[2*g]:loc[2*g+1]])
				}
			}
		}
		last = loc[1]
	}
	b.WriteString(subj[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(len(locs)))
	return 2
}

// tmplPart is a literal (group -1, name "") or a capture reference.
type tmplPart struct {
	lit   string
	group int
	name  string
}

func parseTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, tmplPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	bad := func() error {
		return errString("failed to compile the replacement template: invalid capturing variable name found in \"" + s + "\"")
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return nil, bad()
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
			n, _ := strconv.Atoi(s[i+1 : j])
			flush()
			parts = append(parts, tmplPart{group: n})
			i = j - 1
		case c == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end <= 0 {
				return nil, bad()
			}
			ref := s[i+2 : i+2+end]
			flush()
			if n, err := strconv.Atoi(ref); err == nil {
				parts = append(parts, tmplPart{group: n})
			} else {
				parts = append(parts, tmplPart{group: -1, name: ref})
			}
			i += 2 + end
		default:
			return nil, bad()
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
		re, _, err := c.compile(pat, L.OptString(3, ""))
		if err != nil {
			return pushReErr(L, 1, err)
		}
		last := start
		for _, loc := range re.FindAllStringSubmatchIndex(subj[start:], -1) {
			if max > 0 && len(out) >= max-1 {
				break
			}
			from, to := loc[0]+start, loc[1]+start
			if from == to && (from == start || from == len(subj)) {
				continue // an empty match at either end splits nothing
			}
			out = append(out, subj[last:from])
			if len(loc) > 2 && loc[2] >= 0 {
				out = append(out, subj[loc[2]+start:loc[3]+start])
			}
			last = to
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
