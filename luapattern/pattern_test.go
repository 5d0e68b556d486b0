package luapattern

import (
	"errors"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		s, p string
		want bool
	}{
		// Kong's typedefs
		{"my-name_1.~", `^[%w%.%-%_~]+$`, true},
		{"my name", `^[%w%.%-%_~]+$`, false},
		{"GET", `^%u+$`, true},
		{"Get", `^%u+$`, false},
		{"//", "//", true},
		{"/a//b", "//", true},
		{"/a/b", "//", false},
		// anchors
		{"abc", "^b", false},
		{"abc", "b", true},
		{"abc", "c$", true},
		{"abc", "b$", false},
		{"a$c", "a$c", true}, // $ not at the end is a literal
		{"a^b", "a^b", true}, // ^ not at the start too
		{"", "^$", true},
		{"x", "^$", false},
		// classes and sets
		{"a1", "%a%d", true},
		{"1a", "^%a", false},
		{"  x", "^%s+x$", true},
		{"]", "[]]", true},
		{"a", "[^a]", false},
		{"b", "[^a]", true},
		{"m", "[a-z]", true},
		{"M", "[a-z]", false},
		{"-", "[a%-]", true},
		{"-", "[z-a]", false},
		{"a-", "^[a-]+$", true},
		{"%", "%%", true},
		{"x", "%X", true},
		{"1", "%D", false},
		{"a.b,c", "^%a%p", true},
		{"ab\x01c", "%c", true},
		{"a\x00b", "a%zb", true},
		{"x\x80y", "^%a%A%a$", true},
		// repetitions
		{"aaa", "^a*$", true},
		{"", "^a*$", true},
		{"", "^a+$", false},
		{"ab", "^a?b$", true},
		{"b", "^a?b$", true},
		{"<x><y>", "^<.->$", true},
		{"<x><y>", "^<.-><y>$", true},
		{"-12", "^[+-]?%d+$", true},
		// captures, back references, balance, frontier
		{"abab", "^(ab)%1$", true},
		{"abac", "^(ab)%1$", false},
		{"xx", "()%1", false}, // a position capture matches no text
		{"f(a(b)c)", "%b()", true},
		{"f(a(b c", "%b()$", false},
		{"THE (quick) fox", "%f[%a]%a+", true},
		{"abc", "%f[%z]", true},
		{"x=1", "()=", true},
	}
	for _, c := range cases {
		got, err := Match(c.s, c.p)
		if err != nil {
			t.Errorf("Match(%q, %q): %v", c.s, c.p, err)
			continue
		}
		if got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.s, c.p, got, c.want)
		}
	}
}

func TestMalformed(t *testing.T) {
	for p, want := range map[string]string{
		"[a":                     "malformed pattern (missing ']')",
		"[a%":                    "malformed pattern (missing ']')",
		"a%":                     "malformed pattern (ends with '%')",
		"(a":                     "unfinished capture", // raised when the match succeeds, as "abc" does
		"a)":                     "invalid pattern capture",
		"%1":                     "invalid capture index",
		"(a%1)":                  "invalid capture index",
		"%f1":                    "missing '[' after '%f' in pattern",
		"%f":                     "missing '[' after '%f' in pattern",
		"%b(":                    "unbalanced pattern",
		strings.Repeat("()", 33): "too many captures",
	} {
		_, err := Match("abc", p)
		var pe *Error
		if !errors.As(err, &pe) || err.Error() != want {
			t.Errorf("Match(%q): err = %v, want %q", p, err, want)
		}
	}
	// An unfinished capture in a pattern that does not match raises
	// nothing: Lua only pushes the captures of a match.
	if ok, err := Match("xyz", "(a"); ok || err != nil {
		t.Errorf(`Match("xyz", "(a") = %v, %v; want false, nil`, ok, err)
	}
	// 32 captures are allowed
	if ok, err := Match("a", strings.Repeat("()", 32)); !ok || err != nil {
		t.Errorf("32 captures: %v, %v", ok, err)
	}
}

// Find and Capture: where matches start and end, and what captures hold,
// as string.find and string.match give them (positions here 0-based).
func TestFindAndCaptures(t *testing.T) {
	type capture struct {
		text string
		pos  int // position capture, 0-based; -1 for text
	}
	cases := []struct {
		s, p       string
		init       int
		anchor     bool
		start, end int
		caps       []capture
	}{
		{"hello world", "o w", 0, true, 4, 7, nil},
		{"key=val", "(%w+)=(%w+)", 0, true, 0, 7, []capture{{"key", -1}, {"val", -1}}},
		{"hello", "()ll()", 0, true, 2, 4, []capture{{"", 2}, {"", 4}}},
		{"<a><b>", "<(.-)>", 0, true, 0, 3, []capture{{"a", -1}}},
		{"<a><b>", "<(.*)>", 0, true, 0, 6, []capture{{"a><b", -1}}},
		{"color colour", "colou?r", 1, true, 6, 12, nil},
		{"abc", "^a", 1, true, -1, -1, nil},  // anchored at init
		{"abc", "^b", 1, true, 1, 2, nil},    // init counts as the start
		{"^a^a", "^a", 1, false, 2, 4, nil},  // without anchor '^' is a character
		{"abc", "", 3, true, 3, 3, nil},      // an empty match at the end
		{"abc", "x*", 1, true, 1, 1, nil},    // an empty match where it starts
		{"a\x00b", "%z", 0, true, 1, 2, nil}, // zero bytes are ordinary here
		{"f(a(b)c)d", "%b()", 0, true, 1, 8, nil},
		{"aXa", "(.)X%1", 0, true, 0, 3, []capture{{"a", -1}}},
		{"abcabd", "ab[d]", 0, true, 3, 6, nil}, // skips to the first byte's occurrences
		{"abcabd", "ab[e]", 0, true, -1, -1, nil},
	}
	var m Matcher
	for _, c := range cases {
		m.Reset(c.s, c.p, nil)
		start, end, err := m.Find(c.init, c.anchor)
		if err != nil || start != c.start || end != c.end {
			t.Errorf("Find(%q, %q, %d, %v) = %d, %d, %v; want %d, %d", c.s, c.p, c.init, c.anchor, start, end, err, c.start, c.end)
			continue
		}
		if start < 0 {
			continue
		}
		n := m.NCaptures(false)
		if n != len(c.caps) {
			t.Errorf("%q in %q: %d captures, want %d", c.p, c.s, n, len(c.caps))
			continue
		}
		for i, want := range c.caps {
			got, err := m.Capture(i, start, end)
			if err != nil || got.Position != (want.pos >= 0) ||
				(got.Position && got.Start != want.pos) || (!got.Position && c.s[got.Start:got.End] != want.text) {
				t.Errorf("%q in %q: capture %d = %+v, %v; want %+v", c.p, c.s, i, got, err, want)
			}
		}
		// with no captures, capture 0 is the whole match; beyond, an error
		if n == 0 {
			if got, err := m.Capture(0, start, end); err != nil || got.Start != start || got.End != end || m.NCaptures(true) != 1 {
				t.Errorf("%q in %q: whole match %+v, %v", c.p, c.s, got, err)
			}
		}
		if _, err := m.Capture(n+1, start, end); err == nil || err.Error() != "invalid capture index" {
			t.Errorf("%q in %q: capture %d: err = %v", c.p, c.s, n+1, err)
		}
	}
}

// A pattern that backtracks for a long time stops with the error its poll
// hook returns, after at most PollEvery steps more; without a hook it runs
// to its end.
func TestPollStopsMatch(t *testing.T) {
	stop := errors.New("deadline")
	calls := 0
	var m Matcher
	m.Reset(strings.Repeat("a", 30), ".-.-.-.-b", func() error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	})
	if _, _, err := m.Find(0, true); err != stop {
		t.Fatalf("err = %v, want the hook's error", err)
	}
	if calls != 3 {
		t.Fatalf("poll called %d times, want 3", calls)
	}
	// the matcher is reusable after an error
	m.Reset(strings.Repeat("a", 12), ".-.-b", nil)
	if s, _, err := m.Find(0, true); s != -1 || err != nil {
		t.Fatalf("no hook: %d, %v", s, err)
	}
}

// The recursion is bounded ("pattern too complex"), and repetitions of one
// item do not recurse: a megabyte subject matches.
func TestDepthAndLongSubjects(t *testing.T) {
	_, err := Match(strings.Repeat("a", 300), strings.Repeat("a?", 300))
	if err == nil || err.Error() != "pattern too complex" {
		t.Fatalf("err = %v, want pattern too complex", err)
	}
	s := strings.Repeat("a", 1<<20)
	var m Matcher
	for _, p := range []string{".-$", "a*", "(.+)b?$"} {
		m.Reset(s, p, nil)
		if start, end, err := m.Find(0, true); err != nil || start != 0 || end != len(s) {
			t.Errorf("%q: %d, %d, %v", p, start, end, err)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("abc", "^[%w%.%-%_~]+$")
	f.Add("f(a(b)c)", "%b()")
	f.Add("abab", "(ab)%1")
	f.Add("THE (quick) fox", "%f[%a]%a+")
	f.Add("x=1", "()=(%d)")
	f.Fuzz(func(t *testing.T, s, p string) {
		if len(s) > 256 || len(p) > 64 {
			return
		}
		steps := 0
		var m Matcher
		// a bound on the work, not on time: exponential patterns stop
		m.Reset(s, p, func() error {
			if steps++; steps > 1000 {
				return errors.New("enough")
			}
			return nil
		})
		start, end, err := m.Find(0, true)
		if err != nil || start < 0 {
			return
		}
		if start > end || end > len(s) {
			t.Fatalf("match [%d:%d] of %q", start, end, s)
		}
		for i := 0; i < m.NCaptures(true); i++ {
			c, err := m.Capture(i, start, end)
			if err == nil && !c.Position && (c.Start > c.End || c.End > len(s)) {
				t.Fatalf("capture %d %+v of %q", i, c, s)
			}
		}
	})
}
