package syntax

import (
	"bytes"
	"strings"
	"testing"
)

// Deep nesting is an error at Lua's limit, not a Go stack overflow.
func TestDeepNesting(t *testing.T) {
	const n = 100000
	for _, c := range []struct{ open, close string }{
		{"(", ")"}, {"{", "}"}, {"- ", ""}, {"not ", ""}, {"f(", ")"}, {"a[", "]"},
		{"function() return ", " end"}, {"a .. ", ""}, {"2 ^ ", ""},
	} {
		src := "x = " + strings.Repeat(c.open, n) + "1" + strings.Repeat(c.close, n)
		e := Check([]byte(src), "deep.lua")
		if e == nil || e.Error() != "deep.lua:1: chunk has too many syntax levels" {
			t.Errorf("%q x %d: %v", c.open, n, e)
		}
	}
	for _, c := range []struct{ open, close string }{
		{"do ", "end "}, {"while x do ", "end "}, {"if x then ", "end "}, {"repeat ", "until x "},
		{"local function f() ", "end "},
	} {
		src := strings.Repeat(c.open, n) + strings.Repeat(c.close, n)
		e := Check([]byte(src), "deep.lua")
		if e == nil || e.Error() != "deep.lua:1: chunk has too many syntax levels" {
			t.Errorf("%q x %d: %v", c.open, n, e)
		}
	}
	// each numeric for declares four locals: that limit comes first
	src := strings.Repeat("for i = 1, 2 do\n", n) + strings.Repeat("end ", n)
	if e := Check([]byte(src), "deep.lua"); e == nil || e.Error() != "deep.lua:51: main function has more than 200 local variables" {
		t.Errorf("nested for: %v", e)
	}
}

// Long flat sequences are no nesting and parse.
func TestLongFlatSequences(t *testing.T) {
	const n = 100000
	for _, src := range []string{
		"x = " + strings.Repeat("a + ", n) + "1",
		"x = a" + strings.Repeat(".b", n),
		"x = f" + strings.Repeat(`"s"`, n),
		"x = {" + strings.Repeat("1, ", n) + "}",
		"if x then " + strings.Repeat("elseif x then ", n) + "end",
		strings.Repeat("x = 1\n", n),
		"x = [[" + strings.Repeat("]=]\n", n) + "]]",
	} {
		if e := Check([]byte(src), "flat.lua"); e != nil {
			t.Errorf("%.40q...: %v", src, e)
		}
	}
	if e := Check([]byte(strings.Repeat("a, ", n)+"b = 1"), "flat.lua"); e == nil ||
		e.Error() != "flat.lua:1: main function has more than 198 variables in assignment" {
		t.Errorf("long assignment: %v", e)
	}
}

// A huge line is never echoed whole: the near text is cut.
func TestHugeTokens(t *testing.T) {
	line := append(append([]byte(`x = "`), bytes.Repeat([]byte("a"), 50<<20)...), '\n')
	if e := Check(line, "big.lua"); e == nil || len(e.Error()) > 100 {
		t.Fatalf("50 MB line: %.100v", e)
	}
	const n = 1 << 20
	big := bytes.Repeat([]byte("a"), n)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		src  []byte
		want string
	}{
		{cat([]byte(`x = "`), big), "big.lua:1: unfinished string near '<eof>'"},
		{cat([]byte(`x = "`), big, []byte("\n")), `big.lua:1: unfinished string near '"` + strings.Repeat("a", maxNear-1) + `...'`},
		{cat([]byte(`x = 1`), big), "big.lua:1: malformed number near '1" + strings.Repeat("a", maxNear-1) + "...'"},
		{cat([]byte(`f(a `), big, []byte(" = 2")), "big.lua:1: ')' expected near '" + strings.Repeat("a", maxNear) + "...'"},
		{cat([]byte(`x = 1 [[`), big, []byte("]]")), "big.lua:1: unexpected symbol near '[[" + strings.Repeat("a", maxNear-2) + "...'"},
		{cat([]byte(`x = [`), bytes.Repeat([]byte("="), n)), "big.lua:1: invalid long string delimiter near '[" + strings.Repeat("=", maxNear-1) + "...'"},
	} {
		e := Check(c.src, "big.lua")
		if e == nil || e.Error() != c.want {
			t.Errorf("%.20q...: got %v, want %s", c.src, e, c.want)
		}
	}
}

// Lines are counted across every kind of line break, in and out of tokens.
func TestLineCounting(t *testing.T) {
	src := "x = 1\r\ny = 2\n\rz = [[\r\n\r\n]] w = '\\\r\n' --[[\n\r]]\r--c\n\n+"
	// \r\n, \n\r, \r\n (skipped first), \r\n, \\\r\n, \n\r, \r, \n, \n: line 10
	// (luac5.1 -p agrees)
	e := Check([]byte(src), "l.lua")
	if e == nil || e.Error() != "l.lua:10: unexpected symbol near '<eof>'" {
		t.Errorf("got %v", e)
	}
}

func BenchmarkCheck5MB(b *testing.B) {
	var buf bytes.Buffer
	unit := `local M = {}
function M.new(conf, ...)
  local self = setmetatable({ n = 0, list = { 1, 2.5, 0x10, "s" } }, { __index = M })
  for i = 1, #conf do
    if conf[i] ~= nil and type(conf[i]) == "string" then
      self.list[#self.list + 1] = conf[i] .. [[ long ]] .. ("%d"):format(i)
    elseif not conf[i] then
      self.n = self.n + (i * 2 ^ 3 - 1) % 7
    end
  end
  return self, ...
end
`
	for buf.Len() < 5<<20 {
		buf.WriteString("do\n")
		buf.WriteString(unit)
		buf.WriteString("end\n")
	}
	src := buf.Bytes()
	if e := Check(src, "bench.lua"); e != nil {
		b.Fatal(e)
	}
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for range b.N {
		Check(src, "bench.lua")
	}
}
