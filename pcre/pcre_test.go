package pcre

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// groups renders a match as PCRE would list it: each group's text, "-"
// for one that took no part.
func groups(s string, loc []int) string {
	if loc == nil {
		return "nil"
	}
	var out []string
	for i := 0; i < len(loc); i += 2 {
		if loc[i] < 0 {
			out = append(out, "-")
		} else {
			out = append(out, s[loc[i]:loc[i+1]])
		}
	}
	return strings.Join(out, "|")
}

func TestFindAt(t *testing.T) {
	for _, c := range []struct {
		pat   string
		f     Flags
		subj  string
		start int
		want  string
		eng   Engine
	}{
		// what RE2 cannot express, with PCRE's answers
		{`foo(?=bar)`, Flags{}, "foobaz foobar", 0, "foo", EngineRegexp2},
		{`(?<!x)y`, Flags{}, "xy zy", 0, "y", EngineRegexp2},
		{`(?<=\$)\d+`, Flags{}, "a1 $42", 0, "42", EngineRegexp2},
		{`(\w)\1`, Flags{}, "abccd", 0, "cc|c", EngineRegexp2},
		{`(?<q>['"]).*?\k<q>`, Flags{}, `x "a'b" y`, 0, `"a'b"|"`, EngineRegexp2},
		{`(?P<q>a)(?P=q)`, Flags{}, "aa", 0, "aa|a", EngineRegexp2},
		{`(a)(b)\g{2}\g1`, Flags{}, "abba", 0, "abba|a|b", EngineRegexp2},
		{`(?>a+)ab`, Flags{}, "aaab", 0, "nil", EngineRegexp2},
		{`a++b`, Flags{}, "aab", 0, "aab", EngineRegexp2},
		{`a++ab`, Flags{}, "aaab", 0, "nil", EngineRegexp2},
		// duplicate names under D number as PCRE numbers them
		{`(?<n>a)|(?<n>b)`, Flags{DupNames: true}, "b", 0, "b|-|b", EngineRE2},
		// $ and \Z also match before a final newline
		{`a$`, Flags{}, "a\n", 0, "a", EngineRE2},
		{`a$`, Flags{}, "a", 0, "a", EngineRE2},
		{`a$`, Flags{}, "a\n\n", 0, "nil", EngineRE2},
		{`a\Z`, Flags{}, "a\n", 0, "a", EngineRE2},
		{`a\z`, Flags{}, "a\n", 0, "nil", EngineRE2},
		{`a$`, Flags{Multiline: true}, "a\nb", 0, "a", EngineRE2},
		// a search from an offset sees the text before it
		{`\bb`, Flags{}, "ab b", 1, "b", EngineRE2},
		{`^b`, Flags{}, "ab", 1, "nil", EngineRE2},
		{`^b`, Flags{Multiline: true}, "a\nb", 1, "b", EngineRE2},
		{`b`, Flags{}, "abab", 2, "b", EngineRE2},
		{`(?<=a)b`, Flags{}, "ab", 1, "b", EngineRegexp2},
		// anchored: at the start position only
		{`b`, Flags{Anchored: true}, "ab", 0, "nil", EngineRE2},
		{`b`, Flags{Anchored: true}, "ab", 1, "b", EngineRE2},
		{`(?=b)b`, Flags{Anchored: true}, "ab", 0, "nil", EngineRegexp2},
		{`(?=b)b`, Flags{Anchored: true}, "ab", 1, "b", EngineRegexp2},
		// extended mode and comments
		{"a b # c\n c", Flags{Extended: true}, "abc", 0, "abc", EngineRE2},
		{`a\ b`, Flags{Extended: true}, "a b", 0, "a b", EngineRE2},
		{"[ ]x", Flags{Extended: true}, " x", 0, " x", EngineRE2},
		{"(?#note)a", Flags{}, "a", 0, "a", EngineRE2},
		{"(?x) a (b) # c", Flags{}, "ab", 0, "ab|b", EngineRE2},
		// flags
		{`hello`, Flags{Caseless: true}, "HeLLo", 0, "HeLLo", EngineRE2},
		{`a.b`, Flags{}, "a\nb", 0, "nil", EngineRE2},
		{`a.b`, Flags{DotAll: true}, "a\nb", 0, "a\nb", EngineRE2},
		{`\d+`, Flags{}, "x٣3", 0, "3", EngineRE2},
		{`(?i)(?=A)a`, Flags{}, "xa", 0, "a", EngineRegexp2},
		// PCRE's escapes Go lacks
		{`a\hb`, Flags{}, "a\tb", 0, "a\tb", EngineRE2},
		{`a\Rb`, Flags{}, "a\r\nb", 0, "a\r\nb", EngineRE2},
		{`\Qa.b\E+`, Flags{}, "a.bb", 0, "a.bb", EngineRE2},
		// non-ASCII subjects keep byte offsets on both engines
		{`(?<=é)x`, Flags{}, "éx", 0, "x", EngineRegexp2},
		{`(é)(?=x)`, Flags{}, "aéx", 0, "é|é", EngineRegexp2},
	} {
		re, err := Compile(c.pat, c.f, 0)
		if err != nil {
			t.Errorf("%q: %v", c.pat, err)
			continue
		}
		loc, err := re.FindAt(c.subj, c.start)
		if got := groups(c.subj, loc); got != c.want || err != nil {
			t.Errorf("%q %+v on %q from %d: %s %v, want %s", c.pat, c.f, c.subj, c.start, got, err, c.want)
		}
		if re.Engine() != c.eng {
			t.Errorf("%q: engine %s, want %s", c.pat, re.Engine(), c.eng)
		}
	}
}

func TestNames(t *testing.T) {
	re := MustCompile(`(?<a>x)(y)(?'b'z)(?P<c>w)(?:v)(?=u)`, Flags{})
	if got := fmt.Sprint(re.Names()); got != "[ a  b c]" {
		t.Errorf("names %q", got)
	}
	re = MustCompile(`(?<n>a)|(?<n>b)`, Flags{DupNames: true})
	if got := fmt.Sprint(re.Names()); got != "[ n n]" {
		t.Errorf("dup names %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	for pat, want := range map[string]string{
		`(?<n>a)|(?<n>b)`: `two named subpatterns have the same name in "(?<n>a)|(?<n>b)" at "(?<n>b)"`,
		`(a`:              `missing closing ) in "(a"`,
		`a\Kb`:            `\K is not supported in "a\Kb" at "\Kb"`,
		`\k<nope>`:        `reference to non-existent subpattern in "\k<nope>" at "\k<nope>"`,
		`a\`:              `\ at end of pattern in "a\" at "\"`,
		`(a)\g{-1}`:       `relative back references are not supported in "(a)\g{-1}" at "\g{-1}"`,
	} {
		_, err := Compile(pat, Flags{}, 0)
		var ce *CompileError
		if !errors.As(err, &ce) || err.Error() != want {
			t.Errorf("%q: %v, want %s", pat, err, want)
		}
	}
	if _, err := Compile(`(?=a)`, Flags{Longest: true}, 0); err == nil {
		t.Error("DFA mode with a lookahead compiled")
	}
}

// A catastrophic pattern fails with PCRE's match-limit error instead of
// holding the goroutine.
func TestMatchLimit(t *testing.T) {
	re, err := Compile(`^(\w+\s?)*$`, Flags{}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if re.Engine() != EngineRE2 {
		t.Fatalf("engine %s", re.Engine())
	}
	// Go's engine is linear: no limit to hit
	subj := strings.Repeat("word ", 20) + "!"
	if loc, err := re.FindAt(subj, 0); loc != nil || err != nil {
		t.Fatalf("re2: %v %v", loc, err)
	}
	re, err = Compile(`^(\w+\s?)*(?=x)$`, Flags{}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := re.FindAt(subj, 0)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrMatchLimit) || err.Error() != "pcre_exec() failed: -8" {
			t.Fatalf("err %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("catastrophic match not stopped")
	}
}

func TestNext(t *testing.T) {
	for _, c := range []struct {
		s            string
		from, to, at int
		ok           bool
	}{
		{"abc", 0, 2, 2, true}, {"abc", 1, 1, 2, true}, {"abc", 3, 3, 4, false}, {"éa", 0, 0, 2, true},
	} {
		if at, ok := Next(c.s, c.from, c.to); at != c.at || ok != c.ok {
			t.Errorf("Next(%q, %d, %d) = %d %v", c.s, c.from, c.to, at, ok)
		}
	}
}
