package syntax

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"
)

// gopherAccepts reports whether gopher-lua's parser reads src.
func gopherAccepts(src []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := parse.Parse(bytes.NewReader(src), "f.lua")
	return err == nil
}

// gopherAccepted lists the errors Check may report in code gopher-lua's
// parser accepts: checks gopher-lua leaves to its compiler or does not make
// (limits, break outside a loop, '...' outside a vararg function, the
// ambiguous call), escapes it reads differently, and names it reads with
// a byte it takes as a letter.
var gopherAccepted = []string{
	"ambiguous syntax (function call x new statement)",
	"no loop to break",
	"cannot use '...' outside a vararg function",
	"chunk has too many syntax levels",
	"has more than",
	"escape sequence too large",
	"malformed number",           // gopher-lua reads 1e as 1
	"unexpected symbol near ';'", // gopher-lua takes ';' for an empty statement
	"unexpected symbol near ','", // and allows {1,,2}
	"syntax error near",          // and takes (f()) for a call statement
}

var gopherNumber = regexp.MustCompile(`(^|[^A-Za-z0-9_])[0-9.][0-9.]*([eE][+-]?)?[0-9]*[A-Za-z_]`)

func FuzzCheck(f *testing.F) {
	for _, s := range snippets {
		if len(s.src) < 200 {
			f.Add([]byte(s.src))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		e := Check(src, "f.lua")
		if e == nil {
			return
		}
		if e.Line < 1 || e.Line > bytes.Count(src, []byte("\n"))+bytes.Count(src, []byte("\r"))+1 {
			t.Errorf("line %d out of range: %v", e.Line, e)
		}
		if len(e.Msg) > 200 {
			t.Errorf("message too long: %q", e.Msg)
		}
		if !gopherAccepts(src) {
			return
		}
		if gopherNumber.Match(src) {
			return // gopher-lua ends a numeral at a letter: 1e, 0I, 1LL are 1 e...
		}
		for _, known := range gopherAccepted {
			if strings.Contains(e.Msg, known) {
				return
			}
		}
		t.Errorf("gopher-lua accepts %q, Check says %v", src, e)
	})
}
