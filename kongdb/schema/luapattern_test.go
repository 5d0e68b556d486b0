package schema

import "testing"

func TestLuaMatch(t *testing.T) {
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
		{"%", "%%", true},
		{"x", "%X", true},
		{"1", "%D", false},
		// repetitions
		{"aaa", "^a*$", true},
		{"", "^a*$", true},
		{"", "^a+$", false},
		{"ab", "^a?b$", true},
		{"b", "^a?b$", true},
		{"<x><y>", "^<.->$", true},
		{"<x><y>", "^<.-><y>$", true},
		// captures, back references, balance, frontier
		{"abab", "^(ab)%1$", true},
		{"abac", "^(ab)%1$", false},
		{"f(a(b)c)", "%b()", true},
		{"f(a(b c", "%b()$", false},
		{"THE (quick) fox", "%f[%a]%a+", true},
		{"x=1", "()=", true},
	}
	for _, c := range cases {
		got, err := LuaMatch(c.s, c.p)
		if err != nil {
			t.Errorf("LuaMatch(%q, %q): %v", c.s, c.p, err)
			continue
		}
		if got != c.want {
			t.Errorf("LuaMatch(%q, %q) = %v, want %v", c.s, c.p, got, c.want)
		}
	}
}

func TestLuaMatchMalformed(t *testing.T) {
	for p, want := range map[string]string{
		"[a":  "malformed pattern (missing ']')",
		"a%":  "malformed pattern (ends with '%')",
		"(a":  "unfinished capture", // raised when the match succeeds, as "abc" does
		"a)":  "invalid pattern capture",
		"%1":  "invalid capture index",
		"%f1": "missing '[' after '%f' in pattern",
	} {
		_, err := LuaMatch("abc", p)
		if err == nil || err.Error() != want {
			t.Errorf("LuaMatch(%q): err = %v, want %q", p, err, want)
		}
	}
	// An unfinished capture in a pattern that does not match raises
	// nothing: Lua only pushes the captures of a match.
	if ok, err := LuaMatch("xyz", "(a"); ok || err != nil {
		t.Errorf(`LuaMatch("xyz", "(a") = %v, %v; want false, nil`, ok, err)
	}
}

func FuzzLuaMatch(f *testing.F) {
	f.Add("abc", "^[%w%.%-%_~]+$")
	f.Add("f(a(b)c)", "%b()")
	f.Add("abab", "(ab)%1")
	f.Fuzz(func(t *testing.T, s, p string) {
		_, _ = LuaMatch(s, p) // must never panic
	})
}
