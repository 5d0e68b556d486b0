package schema

import "testing"

// LuaMatch is luapattern's Match (its cases are in luapattern): the
// patterns of Kong's typedefs, and Lua's errors kept.
func TestLuaMatch(t *testing.T) {
	cases := []struct {
		s, p string
		want bool
	}{
		{"my-name_1.~", `^[%w%.%-%_~]+$`, true},
		{"my name", `^[%w%.%-%_~]+$`, false},
		{"GET", `^%u+$`, true},
		{"Get", `^%u+$`, false},
		{"/a//b", "//", true},
		{"/a/b", "//", false},
	}
	for _, c := range cases {
		got, err := LuaMatch(c.s, c.p)
		if err != nil || got != c.want {
			t.Errorf("LuaMatch(%q, %q) = %v, %v; want %v", c.s, c.p, got, err, c.want)
		}
	}
	for p, want := range map[string]string{
		"[a": "malformed pattern (missing ']')",
		"(a": "unfinished capture",
	} {
		if ok, err := LuaMatch("abc", p); ok || err == nil || err.Error() != want {
			t.Errorf("LuaMatch(%q) = %v, %v; want %q", p, ok, err, want)
		}
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
