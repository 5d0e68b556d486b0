//go:build explore

package syntax

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// go test -tags explore -run TestExplore ./luavm/syntax: random mutations
// of the repository's Lua files (SOUP=1: random token soups), Check against
// luac5.1 (JIT=1 SOUP=1: no error where luajit accepts). Needs luac5.1 and
// luajit; not part of the ordinary test run.
func TestExplore(t *testing.T) {
	var files [][]byte
	filepath.Walk("../..", func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".lua") {
			b, _ := os.ReadFile(p)
			files = append(files, b)
		}
		return nil
	})
	dir := t.TempDir()
	r := rand.New(rand.NewSource(int64(len(os.Getenv("SEED")) + 7 + len(os.Getenv("SOUP")))))
	frags := []string{"(", ")", "{", "}", "[", "]", "=", ",", ".", ":", "..", "...", "end", "function", "local", "return", "break", "\"", "'", "[[", "]]", "--[[", "\n", "0x", "1e", "\\", "if", "then", "do", "for", "in", "until", "repeat", ";", "::", "goto", "#", "~", "[=", "\\z", "\\300", "\r", "f\n(", "a.b", "x =", "nil", "goto x ::x::", "0x1p-4", "0x.8", "1LL", "é", "\\z\n", "\\x41", "::a::"}
	soup := append(frags, "a", "b", "f", "x", "1", "2.5", "'s'", "[[l]]", "not", "-", "+", "*", "^", "==", "<", "and", "or", "while", "else", "elseif", "self", "t", "nil", "true", "(a)", "f()", "{}", "0x1p", "1..2", ".5", "a:b", "--c\n", "[==[x]==]", "\"a\\", "\"\\\n\"")
	n, bad := 0, 0
	for i := 0; i < 4000; i++ {
		if os.Getenv("SOUP") != "" {
			var b strings.Builder
			for k := 0; k < 1+r.Intn(14); k++ {
				b.WriteString([]string{" ", "\n", "", " "}[r.Intn(4)])
				b.WriteString(soup[r.Intn(len(soup))])
			}
			s := b.String()
			if os.Getenv("JIT") != "" {
				f := filepath.Join(dir, "j.lua")
				os.WriteFile(f, []byte(s), 0o644)
				jitOK := exec.Command("luajit", "-bl", f).Run() == nil
				n++
				if got := checkString(s); jitOK && got != "" {
					bad++
					t.Errorf("luajit accepts %q, Check: %s", s, got)
				}
				continue
			}
			want, got := luac(t, "luac5.1", dir, s), checkString(s)
			n++
			if want != got && !knownDivergence(s, want) {
				bad++
				if bad < 40 {
					t.Errorf("%q\nluac:  %q\ncheck: %q", s, want, got)
				}
			}
			continue
		}
		src := files[r.Intn(len(files))]
		// take a window of lines
		lines := strings.Split(string(src), "\n")
		a := r.Intn(len(lines))
		b := min(len(lines), a+1+r.Intn(40))
		s := strings.Join(lines[a:b], "\n")
		for k := 0; k < 1+r.Intn(3); k++ {
			pos := r.Intn(len(s) + 1)
			switch r.Intn(3) {
			case 0:
				s = s[:pos] + frags[r.Intn(len(frags))] + s[pos:]
			case 1:
				e := min(len(s), pos+1+r.Intn(5))
				s = s[:pos] + s[e:]
			case 2:
				e := min(len(s), pos+1+r.Intn(5))
				s = s[:pos] + frags[r.Intn(len(frags))] + s[e:]
			}
		}
		if os.Getenv("JIT") != "" {
			f := filepath.Join(dir, "j.lua")
			os.WriteFile(f, []byte(s), 0o644)
			jitOK := exec.Command("luajit", "-bl", f).Run() == nil
			n++
			if got := checkString(s); jitOK && got != "" {
				bad++
				t.Errorf("luajit accepts %q, Check: %s", s, got)
			}
			continue
		}
		want := luac(t, "luac5.1", dir, s)
		got := checkString(s)
		n++
		if want != got && !knownDivergence(s, want) {
			bad++
			if bad < 40 {
				t.Errorf("%q\nluac:  %q\ncheck: %q", s, want, got)
			}
		}
	}
	t.Logf("%d/%d differ", bad, n)
}

// knownDivergence: luac5.1's nesting error, LuaJIT's goto, labels, \z,
// numbers and names, near texts longer than maxNear.
func knownDivergence(src, luacSays string) bool {
	if strings.Contains(luacSays, "nesting of [[...]]") || strings.Contains(src, "goto") ||
		strings.Contains(src, "::") || strings.Contains(src, "\\z") {
		return true
	}
	for _, jit := range []string{"0x1p-", "0x.", "1LL", "\xc3"} { // LuaJIT numbers and names
		if strings.Contains(src, jit) {
			return true
		}
	}
	if i := strings.Index(luacSays, " near '"); i >= 0 && len(luacSays)-i-len(" near '")-1 > maxNear {
		return true
	}
	return false
}
