package syntax

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func rep(s string, n int) string { return strings.Repeat(s, n) }

// seq joins n copies of format, "%d" replaced by 0..n-1, with sep.
func seq(format string, n int, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strings.ReplaceAll(format, "%d", strconv.Itoa(i))
	}
	return strings.Join(parts, sep)
}

// A snippet, what luac5.1 -p says of it ("line: message", "" when it
// parses: the golden text, checked against luac5.1 itself when installed),
// and, when why explains a deliberate difference (code LuaJIT accepts),
// what Check says instead.
type snippet struct {
	src   string
	luac  string
	check string
	why   string
}

var snippets = []snippet{
	{"x = 1 +", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = 1 +\n", "2: unexpected symbol near '<eof>'", "", ""},
	{"x =", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = \n\n", "3: unexpected symbol near '<eof>'", "", ""},
	{"local", "1: '<name>' expected near '<eof>'", "", ""},
	{"local x =", "1: unexpected symbol near '<eof>'", "", ""},
	{"local 1 = 2", "1: '<name>' expected near '1'", "", ""},
	{"local a, = 2", "1: '<name>' expected near '='", "", ""},
	{"a b", "1: '=' expected near 'b'", "", ""},
	{"a.b c", "1: '=' expected near 'c'", "", ""},
	{"a.b:c = 1", "1: function arguments expected near '='", "", ""},
	{"a.b:c", "1: function arguments expected near '<eof>'", "", ""},
	{"x = a.b.c:d", "1: function arguments expected near '<eof>'", "", ""},
	{"(a) = 1", "1: syntax error near '='", "", ""},
	{"(a)\nb = 1", "2: syntax error near 'b'", "", ""},
	{"a, f() = 1", "1: syntax error near '='", "", ""},
	{"a, (b) = 1", "1: syntax error near '='", "", ""},
	{"f() = 1", "1: unexpected symbol near '='", "", ""},
	{"a, b", "1: '=' expected near '<eof>'", "", ""},
	{"a, b =", "1: unexpected symbol near '<eof>'", "", ""},
	{"\"str\"", "1: unexpected symbol near '\"str\"'", "", ""},
	{"1 = x", "1: unexpected symbol near '1'", "", ""},
	{"x = 1 2", "1: unexpected symbol near '2'", "", ""},
	{"x = 1 \"s\"", "1: unexpected symbol near '\"s\"'", "", ""},
	{"x = 1 [[abc\ndef]] ", "2: unexpected symbol near '[[abc\ndef]]'", "", ""},
	{"x = 1 \"a\\65\\tb\"", "1: unexpected symbol near '\"aA\tb\"'", "", ""},
	{"and = 1", "1: unexpected symbol near 'and'", "", ""},
	{"x = not", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = #", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = - - - 1 ^ ^", "1: unexpected symbol near '^'", "", ""},
	{"x = 1 ~ 2", "1: unexpected symbol near '~'", "", ""},
	{"x = 3 . 4", "1: unexpected symbol near '.'", "", ""},
	{"x = a[1", "1: ']' expected near '<eof>'", "", ""},
	{"x = a[]", "1: unexpected symbol near ']'", "", ""},
	{"x = a.1", "1: unexpected symbol near '.1'", "", ""},
	{"x = a.", "1: '<name>' expected near '<eof>'", "", ""},
	{"x = a:", "1: '<name>' expected near '<eof>'", "", ""},
	{"x = a:b.c", "1: function arguments expected near '.'", "", ""},
	{"x = f(", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = f(\n", "2: unexpected symbol near '<eof>'", "", ""},
	{"x = f(1\n\n", "3: ')' expected (to close '(' at line 1) near '<eof>'", "", ""},
	{"x = f(a,)", "1: unexpected symbol near ')'", "", ""},
	{"f(a,)", "1: unexpected symbol near ')'", "", ""},
	{"x = (1\n\n", "3: ')' expected (to close '(' at line 1) near '<eof>'", "", ""},
	{"x = ()", "1: unexpected symbol near ')'", "", ""},
	{"x = (1,2)", "1: ')' expected near ','", "", ""},
	{"x = f\n(1)", "2: ambiguous syntax (function call x new statement) near '('", "", ""},
	{"a = b\n(f or g)(x)", "2: ambiguous syntax (function call x new statement) near '('", "", ""},
	{"x = {f\n(1)\nf\n(2)}", "3: '}' expected (to close '{' at line 1) near 'f'", "", ""},
	{"x = {1,,2}", "1: unexpected symbol near ','", "", ""},
	{"x = {[1] 2}", "1: '=' expected near '2'", "", ""},
	{"x = {a = }", "1: unexpected symbol near '}'", "", ""},
	{"x = {,}", "1: unexpected symbol near ','", "", ""},
	{"x = {[1 = 2}", "1: ']' expected near '='", "", ""},
	{"local t = {\n a = 1\n b = 2 }", "3: '}' expected (to close '{' at line 1) near 'b'", "", ""},
	{"x = {\n a = 1,\n b = 2 ", "3: '}' expected (to close '{' at line 1) near '<eof>'", "", ""},
	{"x = {a = 1 b = 2}", "1: '}' expected near 'b'", "", ""},
	{"x = {1 2}", "1: '}' expected near '2'", "", ""},
	{"x = function", "1: '(' expected near '<eof>'", "", ""},
	{"x = function(", "1: <name> or '...' expected near '<eof>'", "", ""},
	{"x = function(a, b", "1: ')' expected near '<eof>'", "", ""},
	{"x = function(a, 1)", "1: <name> or '...' expected near '1'", "", ""},
	{"x = function(a b)", "1: ')' expected near 'b'", "", ""},
	{"x = function(..., a) end", "1: ')' expected near ','", "", ""},
	{"x = function(a,) end", "1: <name> or '...' expected near ')'", "", ""},
	{"x = function\n(a)\n\n", "4: 'end' expected (to close 'function' at line 2) near '<eof>'", "", ""},
	{"local function f\n(a)\n\n", "4: 'end' expected (to close 'function' at line 2) near '<eof>'", "", ""},
	{"function f\n(a)\n\n", "4: 'end' expected (to close 'function' at line 1) near '<eof>'", "", ""},
	{"function () end", "1: '<name>' expected near '('", "", ""},
	{"function a.b:c.d() end", "1: '(' expected near '.'", "", ""},
	{"function a:b:c() end", "1: '(' expected near ':'", "", ""},
	{"function a.1() end", "1: '(' expected near '.1'", "", ""},
	{"local function a.b() end", "1: '(' expected near '.'", "", ""},
	{"local function() end", "1: '<name>' expected near '('", "", ""},
	{"function f() return ... end", "1: cannot use '...' outside a vararg function near '...'", "", ""},
	{"function f(...) local function g() return ... end end", "1: cannot use '...' outside a vararg function near '...'", "", ""},
	{"x = function(a) return {...} end", "1: cannot use '...' outside a vararg function near '...'", "", ""},
	{"for a b", "1: '=' or 'in' expected near 'b'", "", ""},
	{"for a.b = 1", "1: '=' or 'in' expected near '.'", "", ""},
	{"for a = 1 do end", "1: ',' expected near 'do'", "", ""},
	{"for a = 1, 2 end", "1: 'do' expected near 'end'", "", ""},
	{"for a, b = 1 do end", "1: 'in' expected near '='", "", ""},
	{"for a in b, do end", "1: unexpected symbol near 'do'", "", ""},
	{"for a in do end", "1: unexpected symbol near 'do'", "", ""},
	{"for 1 = 1, 2 do end", "1: '<name>' expected near '1'", "", ""},
	{"for a = 1, 2, 3, 4 do end", "1: 'do' expected near ','", "", ""},
	{"for a, in b do end", "1: '<name>' expected near 'in'", "", ""},
	{"for a in b end", "1: 'do' expected near 'end'", "", ""},
	{"for a = 1, 2 do\n\nx = 1\n", "4: 'end' expected (to close 'for' at line 1) near '<eof>'", "", ""},
	{"if a then elseif b end", "1: 'then' expected near 'end'", "", ""},
	{"if a\nthen else\n", "3: 'end' expected (to close 'if' at line 1) near '<eof>'", "", ""},
	{"if a end", "1: 'then' expected near 'end'", "", ""},
	{"if then end", "1: unexpected symbol near 'then'", "", ""},
	{"if a then else else end", "1: 'end' expected near 'else'", "", ""},
	{"if a then x = 1 elseif end", "1: unexpected symbol near 'end'", "", ""},
	{"repeat\nx = 1\n", "3: 'until' expected (to close 'repeat' at line 1) near '<eof>'", "", ""},
	{"repeat until", "1: unexpected symbol near '<eof>'", "", ""},
	{"while true\ndo", "2: 'end' expected (to close 'while' at line 1) near '<eof>'", "", ""},
	{"while do end", "1: unexpected symbol near 'do'", "", ""},
	{"while true end", "1: 'do' expected near 'end'", "", ""},
	{"do\n\n return 1 2 end", "3: 'end' expected (to close 'do' at line 1) near '2'", "", ""},
	{"do end end", "1: '<eof>' expected near 'end'", "", ""},
	{"return return", "1: unexpected symbol near 'return'", "", ""},
	{"return 1;;", "1: '<eof>' expected near ';'", "", ""},
	{"return 1\nx = 2", "2: '<eof>' expected near 'x'", "", ""},
	{"return 1,", "1: unexpected symbol near '<eof>'", "", ""},
	{"break", "1: no loop to break near '<eof>'", "", ""},
	{"break\n", "2: no loop to break near '<eof>'", "", ""},
	{"do break end", "1: no loop to break near 'end'", "", ""},
	{"while 1 do local function f() break end end", "1: no loop to break near 'end'", "", ""},
	{"while 1 do break x = 1 end", "1: 'end' expected near 'x'", "", ""},
	{"function f() break end", "1: no loop to break near 'end'", "", ""},
	{"repeat local f = function() break end until 1", "1: no loop to break near 'end'", "", ""},
	{"x = \"abc\ny\"", "1: unfinished string near '\"abc'", "", ""},
	{"x = \"ab\\\ncd", "2: unfinished string near '<eof>'", "", ""},
	{"x = \"\\\n", "2: unfinished string near '<eof>'", "", ""},
	{"x = \"\\", "1: unfinished string near '<eof>'", "", ""},
	{"x = \"\\12", "1: unfinished string near '<eof>'", "", ""},
	{"x = 'abc", "1: unfinished string near '<eof>'", "", ""},
	{"x = \"a\\r\\nb", "1: unfinished string near '<eof>'", "", ""},
	{"x = \"\\256\"", "1: escape sequence too large near '\"'", "", ""},
	{"x = \"\\300\"", "1: escape sequence too large near '\"'", "", ""},
	{"x = \"ab\\999cd\"", "1: escape sequence too large near '\"ab'", "", ""},
	{"x = [==[ abc\n\n", "3: unfinished long string near '<eof>'", "", ""},
	{"--[==[ abc\n\n", "3: unfinished long comment near '<eof>'", "", ""},
	{"--[[", "1: unfinished long comment near '<eof>'", "", ""},
	{"x = [==x", "1: invalid long string delimiter near '[=='", "", ""},
	{"x = [=", "1: invalid long string delimiter near '[='", "", ""},
	{"x = [=[ a ]] ]=] y", "1: '=' expected near '<eof>'", "", ""},
	{"x = [[\n\n\n", "4: unfinished long string near '<eof>'", "", ""},
	{"x = 12abc", "1: malformed number near '12abc'", "", ""},
	{"x = .5e", "1: malformed number near '.5e'", "", ""},
	{"x = 0xep", "1: malformed number near '0xep'", "", ""},
	{"x = 1..2", "1: malformed number near '1..2'", "", ""},
	{"x = 0x", "1: malformed number near '0x'", "", ""},
	{"x = 1e", "1: malformed number near '1e'", "", ""},
	{"x = 1e+", "1: malformed number near '1e+'", "", ""},
	{"x = 1.2.3", "1: malformed number near '1.2.3'", "", ""},
	{"x = 08x", "1: malformed number near '08x'", "", ""},
	{"x = 0x1p", "1: malformed number near '0x1p'", "", ""},
	{"x = 3e5.1", "1: unexpected symbol near '.1'", "", ""},
	{"x = 0x1P4 y", "1: '=' expected near '<eof>'", "", ""},
	{"x = 1_000", "1: malformed number near '1_000'", "", ""},
	{"x = 1LLL", "1: malformed number near '1LLL'", "", ""},
	{"x = 1.5LL", "1: malformed number near '1.5LL'", "", ""},
	{"x = 0b2", "1: malformed number near '0b2'", "", ""},
	{"x = \x01", "1: unexpected symbol near 'char(1)'", "", ""},
	{"x = 1 \x00 2", "1: unexpected symbol", "", ""},
	{"x = \"a\x00b\n", "1: unfinished string near '\"a'", "", ""},
	{"x = @", "1: unexpected symbol near '@'", "", ""},
	{"x = $a", "1: unexpected symbol near '$'", "", ""},
	{"x = a ! b", "1: unexpected symbol near '!'", "", ""},
	{"x = a != b", "1: unexpected symbol near '!'", "", ""},
	{"x = a && b", "1: unexpected symbol near '&'", "", ""},
	{"x = a || b", "1: unexpected symbol near '|'", "", ""},
	{"x = a += 1", "1: unexpected symbol near '='", "", ""},
	{"a += 1", "1: '=' expected near '+'", "", ""},
	{"a++", "1: '=' expected near '+'", "", ""},
	{"x = `a`", "1: unexpected symbol near '`'", "", ""},
	{"x = a ? b : c", "1: unexpected symbol near '?'", "", ""},
	{"local x <const> = 1", "1: unexpected symbol near '<'", "", ""},
	{"x = a // b", "1: unexpected symbol near '/'", "", ""},
	{"x = a & b", "1: unexpected symbol near '&'", "", ""},
	{"x = a >> 1", "1: unexpected symbol near '>'", "", ""},
	{"x = ~a", "1: unexpected symbol near '~'", "", ""},
	{"local function f() end end", "1: '<eof>' expected near 'end'", "", ""},
	{"end", "1: '<eof>' expected near 'end'", "", ""},
	{"else", "1: '<eof>' expected near 'else'", "", ""},
	{"elseif", "1: '<eof>' expected near 'elseif'", "", ""},
	{"until", "1: '<eof>' expected near 'until'", "", ""},
	{"then", "1: unexpected symbol near 'then'", "", ""},
	{"in", "1: unexpected symbol near 'in'", "", ""},
	{"x = a and", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = a or or b", "1: unexpected symbol near 'or'", "", ""},
	{"x = a ==", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = a .. ", "1: unexpected symbol near '<eof>'", "", ""},
	{"f{x}{y}\"z\"[1]:m() = 1", "1: unexpected symbol near '='", "", ""},
	{"x = f{", "1: unexpected symbol near '<eof>'", "", ""},
	{"x = f\"abc", "1: unfinished string near '<eof>'", "", ""},
	{"x = f[[abc", "1: unfinished long string near '<eof>'", "", ""},
	{"goto", "1: '=' expected near '<eof>'", "", ""},
	{"goto 1", "1: '=' expected near '1'", "", ""},
	{"::a", "1: unexpected symbol near ':'", "", ""},
	{":: a", "1: unexpected symbol near ':'", "", ""},
	{"::a:", "1: unexpected symbol near ':'", "", ""},
	{"x = ::a::", "1: unexpected symbol near ':'", "", ""},
	{"local goto x", "1: '=' expected near '<eof>'", "", ""},
	{"; x = 1", "1: unexpected symbol near ';'", "", ""},
	{";;", "1: unexpected symbol near ';'", "", ""},
	{"x = 1;;", "1: unexpected symbol near ';'", "", ""},
	{"x = f(\n)\n(g)()", "3: ambiguous syntax (function call x new statement) near '('", "", ""},
	{"a.b.c\n(1)", "2: ambiguous syntax (function call x new statement) near '('", "", ""},
	{"local a = {}\nlocal b = a\n(b)()\n", "3: ambiguous syntax (function call x new statement) near '('", "", ""},
	{"x = {\n\n", "3: unexpected symbol near '<eof>'", "", ""},
	{"x = {\n\n1,\n2\n", "5: '}' expected (to close '{' at line 1) near '<eof>'", "", ""},
	{"x = (\n\n", "3: unexpected symbol near '<eof>'", "", ""},
	{"x = a[\n\n", "3: unexpected symbol near '<eof>'", "", ""},
	{"f(\n\n", "3: unexpected symbol near '<eof>'", "", ""},
	{"x = function() \n\n", "3: 'end' expected (to close 'function' at line 1) near '<eof>'", "", ""},
	{"x = \"" + rep("a", 100) + "\n", "1: unfinished string near '\"" + rep("a", 100) + "'", "1: unfinished string near '\"" + rep("a", 59) + "...'", "the near text is cut to 60 bytes"},
	{"x = 1" + rep("a", 100), "1: malformed number near '1" + rep("a", 100) + "'", "1: malformed number near '1" + rep("a", 59) + "...'", "the near text is cut to 60 bytes"},
	{"x = " + rep("a", 100) + " b", "1: '=' expected near '<eof>'", "", ""},
	{"x = [[" + rep("b", 100) + "]] c", "1: '=' expected near '<eof>'", "", ""},
	{"x = " + rep("(", 198) + "1" + rep(")", 198), "1: chunk has too many syntax levels", "", ""},
	{"x = " + rep("(", 197) + "1" + rep(")", 197) + ")", "1: unexpected symbol near ')'", "", ""},
	{rep("do ", 199) + rep("end ", 199), "1: chunk has too many syntax levels", "", ""},
	{"x = " + rep("{", 250) + rep("}", 250), "1: chunk has too many syntax levels", "", ""},
	{"x = " + rep("- ", 198) + "1", "1: chunk has too many syntax levels", "", ""},
	{"x = " + seq("a", 250, ".."), "1: chunk has too many syntax levels", "", ""},
	{"x = " + rep("function() return ", 100) + "1" + rep(" end", 100), "1: chunk has too many syntax levels", "", ""},
	{rep("if x then ", 199) + rep("end ", 199), "1: chunk has too many syntax levels", "", ""},
	{"local " + seq("a%d", 201, ",") + "\nx=1", "2: main function has more than 200 local variables", "", ""},
	{seq("local a%d", 201, "\n"), "201: main function has more than 200 local variables", "", ""},
	{"function f()\n" + seq("local a%d", 201, "\n") + " end", "202: function at line 1 has more than 200 local variables", "", ""},
	{"for i=1,2 do for j=1,2 do\n" + seq("local a%d", 195, "\n") + " end end", "195: main function has more than 200 local variables", "", ""},
	{"for k,v in x do\n" + seq("local a%d", 197, "\n") + " end", "198: main function has more than 200 local variables", "", ""},
	{seq("local a%d", 61, "\n") + "\nfunction f()\n return " + seq("a%d", 61, "+") + " end", "63: function at line 62 has more than 60 upvalues", "", ""},
	{seq("local a%d", 61, "\n") + "\nfunction f() return function() return " + seq("a%d", 61, "+") + " end end", "62: function at line 62 has more than 60 upvalues", "", ""},
	{seq("a%d", 200, ",") + " = 1", "1: main function has more than 198 variables in assignment", "", ""},
	{"local x = function() " + seq("a%d", 198, ",") + " = 1 end", "1: function at line 1 has more than 196 variables in assignment", "", ""},
	{"function f(a" + seq(",b%d", 200, "") + ") end", "1: function at line 1 has more than 200 local variables", "", ""},
	{"local function m(self) end\nfunction t:m(" + seq("a%d", 200, ",") + ") end", "2: function at line 2 has more than 200 local variables", "", ""},
	{"#!/usr/bin/lua\nx = = 1", "2: unexpected symbol near '='", "", ""},
	{"x = 1\n#x", "2: unexpected symbol near '#'", "", ""},
	{"return\n{\n1\n2\n}", "4: '}' expected (to close '{' at line 2) near '2'", "", ""},
	{"local t = {\n  {\n    id = 1\n  }\n  { name = 2 },\n}", "5: '}' expected (to close '{' at line 1) near '{'", "", ""},
	{"return {\n  [\"/x\"] = {\n    GET = function(self)\n      return kong.response.exit(200 { ok = true })\n    end,\n  },\n}", "4: ')' expected near '{'", "", ""},
	{"describe(\"x\", function()\n  it(\"y\" function() end)\nend)\n", "2: ')' expected near 'function'", "", ""},
	{"local M = {}\nfunction M.new(conf)\n  local self = setmetatable({}, M)\n  if conf.x then\n    self.x = conf.x\n  end\n  return self\n\nreturn M\n", "9: 'end' expected (to close 'function' at line 2) near 'return'", "", ""},
	{"local ok, err = pcall(function()\n  error(\"x\")\nend\nif not ok then print(err) end\n", "4: ')' expected (to close '(' at line 1) near 'if'", "", ""},
	{"local s = [[\nabc\n]] .. \"def\n", "3: unfinished string near '\"def'", "", ""},
	{"x = 1 --[[ comment\n\n", "3: unfinished long comment near '<eof>'", "", ""},
	{"x = \"a\\z\nb", "1: unfinished string near '\"az'", "2: unfinished string near '<eof>'", "LuaJIT \\z skips the line break"},
	{"x = \"a\\z b\n", "1: unfinished string near '\"az b'", "", ""},
	{"local x = 1\nlocal y = x +\n\n\n", "5: unexpected symbol near '<eof>'", "", ""},
	{"a::b()", "1: '<name>' expected near ':'", "", ""},
	{": :a: :", "1: unexpected symbol near ':'", "", ""},
	{"x = a: :b", "1: '<name>' expected near ':'", "", ""},
	{"x = \"a\rb\"", "1: unfinished string near '\"a'", "", ""},
	{"x = 'a\\r\nb'", "1: unfinished string near ''a\r'", "", ""},
	{"x = [[a]=]", "1: unfinished long string near '<eof>'", "", ""},
	{"x = \"\\9999\"", "1: escape sequence too large near '\"'", "", ""},
	{"x = 0x1.5", "1: unexpected symbol near '.5'", "", "LuaJIT hex fraction"},
	{"x = 1.5e+3e", "1: malformed number near '1.5e+3e'", "", ""},
	{"local x <close>", "1: unexpected symbol near '<'", "", ""},
	{"x = a.b.c.d.e.f(", "1: unexpected symbol near '<eof>'", "", ""},
	{"f(function() end", "1: ')' expected near '<eof>'", "", ""},
	{"local t = {\n  function() end\n  x = 1\n}", "3: '}' expected (to close '{' at line 1) near 'x'", "", ""},
	{"if x then\n  return 1\n  print(2)\nend", "3: 'end' expected (to close 'if' at line 1) near 'print'", "", ""},
	{"x = a[b[c[d]]", "1: ']' expected near '<eof>'", "", ""},
	{"x = f(g(h(1))", "1: ')' expected near '<eof>'", "", ""},
	{"x = {[[a]] = 1}", "1: '}' expected near '='", "", ""},
	{"x = {a.b = 1}", "1: '}' expected near '='", "", ""},
	{"x = {f() = 1}", "1: '}' expected near '='", "", ""},
	{"x = {[\"k\"] = }", "1: unexpected symbol near '}'", "", ""},
	{"return ...,", "1: unexpected symbol near '<eof>'", "", ""},
	{"local function f(a, a.b) end", "1: ')' expected near '.'", "", ""},
	{"function f(self:x) end", "1: ')' expected near ':'", "", ""},
	{"x = function(...) return ... end ... ", "1: unexpected symbol near '...'", "", ""},
	{"for i = 1, 2 do break end break", "1: no loop to break near '<eof>'", "", ""},
	// valid Lua 5.1, and LuaJIT extensions luac5.1 rejects
	{"x = 1", "", "", ""},
	{"return", "", "", ""},
	{"return;", "", "", ""},
	{"local a, b = 1, 2", "", "", ""},
	{"x = {f\n(1)}", "", "", ""},
	{"x = {[1] = 2;}", "", "", ""},
	{"f{x}{y}\"z\"[1]:m()", "", "", ""},
	{"x = ...", "", "", ""},
	{"local function f(a, ...) return arg, ... end", "", "", ""},
	{"x = \"\\q\\x41\\u{41}\"", "", "", ""},
	{"x = \"\\2555\"", "", "", ""},
	{"--[==x\nx = 1", "", "", ""},
	{"x = a.b.c:d(1):e\"x\":f{y}", "", "", ""},
	{"while true do break end", "", "", ""},
	{"repeat local x = 1 until x", "", "", ""},
	{"for i = 1, 10, 2 do end for k, v in pairs(t) do end", "", "", ""},
	{"local t = {1, 2, 3; n = 3, [\"k\"] = 4,}", "", "", ""},
	{"x = -2^-3 .. \"a\" .. #t", "", "", ""},
	{"x = not not nil == false", "", "", ""},
	{"a, b.c, d[1] = 1, 2", "", "", ""},
	{"local function f() return end", "", "", ""},
	{"do local a end do local a end", "", "", ""},
	{"x = 0x1F + 1e5 + .5 + 5. + 3E-2 + 0X1p4", "", "", ""},
	{"#!/usr/bin/lua\nx = 1", "", "", ""},
	{"x = [==[ ]] ]=] ]==]", "", "", ""},
	{"x = " + rep("(", 197) + "1" + rep(")", 197), "", "", ""},
	{"local " + seq("a%d", 200, ","), "", "", ""},
	{"local s = \"a\\\nb\"", "", "", ""},
	{"f(a)(b)\n;(g)()", "", "", ""},
	{"local a = {}\nlocal b = a\n;(b)()\n", "", "", ""},
	{"goto continue\n::continue::", "1: '=' expected near 'continue'", "", "LuaJIT goto and labels"},
	{"for i = 1, 3 do\n  if i == 2 then goto next end\n  ::next::\nend", "2: '=' expected near 'next'", "", "LuaJIT goto and labels"},
	{"local s = \"a\\z\n   b\"", "1: unfinished string near '\"az'", "", "LuaJIT \\z skips line breaks"},
	{"x = 0x1p-4", "1: malformed number near '0x1p'", "", "LuaJIT signed binary exponent"},
	{"x = 0x1.8", "1: unexpected symbol near '.8'", "", "LuaJIT hex fraction"},
	{"x = 0b101", "1: malformed number near '0b101'", "", "LuaJIT binary literal"},
	{"x = 1LL + 2ULL + 3i + 0x10ull", "1: malformed number near '1LL'", "", "LuaJIT FFI number suffixes"},
	{"local caf\xc3\xa9 = 1", "1: unexpected symbol near '\xc3'", "", "LuaJIT accepts bytes >= 0x80 in names"},
	{"x = [[ a [[ b ]]", "1: nesting of [[...]] is deprecated near '['", "", "LuaJIT accepts [[ in a long string"},
	{"--[[ a [[ b ]]\nx = 1", "1: nesting of [[...]] is deprecated near '['", "", "LuaJIT accepts [[ in a long comment"},
	{"local function f(...)\n" + seq("local a%d", 200, "\n") + " end", "201: function at line 1 has more than 200 local variables", "", "no implicit arg local (LuaJIT)"},
	{"\xef\xbb\xbfx = 1", "1: unexpected symbol near '\xef'", "", "LuaJIT skips a byte order mark"},
	{"goto = 1", "", "", ""},
	{"x = a\n[1]", "", "", ""},
	{"local goto = 1\ngoto = goto + 1", "", "", ""},
	{"A=A::A::", "1: '<name>' expected near ':'", "", "LuaJIT label after an expression"},
	{"f()\n::done::", "2: '<name>' expected near ':'", "", "LuaJIT label after a call"},
}

// want is what Check must say of s.
func (s snippet) want() string {
	if s.why != "" {
		return s.check
	}
	return s.luac
}

func checkString(src string) string {
	if e := Check([]byte(src), "t.lua"); e != nil {
		return fmt.Sprintf("%d: %s", e.Line, e.Msg)
	}
	return ""
}

// luac runs luac5.1 -p on src and returns its message as "line: message",
// "" when src parses.
func luac(t *testing.T, bin, dir, src string) string {
	t.Helper()
	f := filepath.Join(dir, "t.lua")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", "t.lua")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		return ""
	} else if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("luac5.1: %v", err)
	}
	out := strings.TrimSuffix(stderr.String(), "\n")
	if !strings.HasPrefix(out, "luac5.1: t.lua:") {
		t.Fatalf("unexpected luac5.1 output %q", out)
	}
	return strings.TrimPrefix(out, "luac5.1: t.lua:")
}

func luacBinary(t *testing.T) string {
	if _, err := exec.LookPath("luac5.1"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("luac5.1 is required in CI: apt-get install lua5.1")
		}
		return ""
	}
	return "luac5.1"
}

// Each snippet is checked against its golden text and, when luac5.1 is
// installed, the golden text against luac5.1.
func TestSnippets(t *testing.T) {
	broken, valid, agree := 0, 0, 0
	for _, s := range snippets {
		if s.want() != "" {
			broken++
		} else {
			valid++
		}
		if s.why == "" {
			agree++
		}
		if got := checkString(s.src); got != s.want() {
			t.Errorf("Check(%q)\n got: %q\nwant: %q", clipSrc(s.src), got, s.want())
		}
	}
	if broken < 120 || valid < 30 {
		t.Errorf("%d broken and %d valid snippets; want at least 120 and 30", broken, valid)
	}
	t.Logf("%d snippets (%d broken, %d valid); Check agrees with luac5.1 on %d", len(snippets), broken, valid, agree)
}

func TestSnippetsAgainstLuac(t *testing.T) {
	bin := luacBinary(t)
	if bin == "" {
		t.Skip("luac5.1 not installed")
	}
	dir := t.TempDir()
	for _, s := range snippets {
		got := luac(t, bin, dir, s.src)
		if got != s.luac {
			t.Errorf("luac5.1 -p on %q\n says: %q\ntable: %q", clipSrc(s.src), got, s.luac)
		}
		if s.why == "" && got != checkString(s.src) {
			t.Errorf("Check and luac5.1 differ on %q: %q vs %q", clipSrc(s.src), checkString(s.src), got)
		}
		if s.why != "" && got == s.check {
			t.Errorf("%q is marked as differing from luac5.1 (%s) but agrees", clipSrc(s.src), s.why)
		}
	}
}

func clipSrc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
