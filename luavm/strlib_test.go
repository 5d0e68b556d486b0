package luavm

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// strCase is one string library case: Lua code (show prints values, E
// prints the error of a call) and what it prints. Every case is also run by
// PUC lua5.1 unless noRef says why luahost differs on purpose.
type strCase struct {
	code, want string
	noRef      string
}

// casePrelude defines show (values printed readably: strings quoted with
// bytes outside 32-126 as \ddd, errors without their position) and E
// (shows pcall's results).
const casePrelude = `
local function esc(s)
  local t = {}
  for i = 1, #s do
    local c = s:byte(i)
    if c < 32 or c > 126 then t[#t+1] = "\\" .. c else t[#t+1] = string.char(c) end
  end
  return table.concat(t)
end
function show(...)
  local t = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "string" then t[i] = '"' .. esc(v) .. '"' else t[i] = tostring(v) end
  end
  print(table.concat(t, " "))
end
function E(f, ...) show(pcall(f, ...)) end
`

// e is the code showing the error of expr, called by name from a Lua
// function (so argument errors name the function in both VMs).
func e(expr string) string {
	return "show(pcall(function() local r = " + expr + "; return r end))"
}

var posRE = regexp.MustCompile(`"[^"\s]*:\d+: `)

// runCases runs every case in one chunk of a fresh luahost state and, when
// lua5.1 is installed, in lua5.1; it returns the outputs, case by case.
// A code starting with "--noref" is not run by lua5.1.
func runCases(t *testing.T, codes []string) (ours, ref []string) {
	t.Helper()
	var src, refSrc strings.Builder
	src.WriteString(casePrelude)
	refSrc.WriteString(casePrelude)
	for i, c := range codes {
		const chunk = "io.write('@@%d\\n')\ndo local ok, err = pcall(function()\n%s\nend)\nif not ok then print('UNCAUGHT ' .. tostring(err)) end end\n"
		fmt.Fprintf(&src, chunk, i, c)
		if strings.HasPrefix(c, "--noref") {
			c = "print('not run')"
		}
		fmt.Fprintf(&refSrc, chunk, i, c)
	}
	split := func(out string) []string {
		parts := make([]string, len(codes))
		chunks := strings.Split(out, "@@")
		for _, ch := range chunks[1:] {
			var i int
			nl := strings.IndexByte(ch, '\n')
			fmt.Sscanf(ch[:nl], "%d", &i)
			parts[i] = posRE.ReplaceAllString(ch[nl+1:], `"`)
		}
		return parts
	}
	var out bytes.Buffer
	L := NewState(Options{Stdout: &out})
	defer L.Close()
	L.SetGlobal("io", L.NewTable())
	L.GetGlobal("io").(*lua.LTable).RawSetString("write", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			out.WriteString(CheckString(L, i))
		}
		return 0
	}))
	proto, err := Compile("cases.lua", []byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := PCall(L, 0, 0, false); err != nil {
		t.Fatalf("cases: %v", err)
	}
	ours = split(out.String())

	lua51, err := exec.LookPath("lua5.1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("lua5.1 is not installed: cannot check the expectations against PUC Lua 5.1")
		}
		t.Log("lua5.1 not installed: expectations not checked against PUC Lua 5.1")
		return ours, nil
	}
	file := filepath.Join(t.TempDir(), "cases.lua")
	if err := os.WriteFile(file, []byte(refSrc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(lua51, file).CombinedOutput()
	if err != nil {
		t.Fatalf("lua5.1: %v\n%s", err, b)
	}
	return ours, split(string(b))
}

func checkCases(t *testing.T, cases []strCase) {
	t.Helper()
	codes := make([]string, len(cases))
	for i, c := range cases {
		codes[i] = c.code
	}
	ours, ref := runCases(t, codes)
	for i, c := range cases {
		want := c.want + "\n"
		if ours[i] != want {
			t.Errorf("%s\n got: %q\nwant: %q", c.code, ours[i], want)
		}
		if ref != nil && c.noRef == "" && ref[i] != want {
			t.Errorf("%s\nlua5.1 prints %q, the case expects %q", c.code, ref[i], want)
		}
		if ref != nil && c.noRef != "" && ref[i] == want {
			t.Errorf("%s\nmarked as differing from lua5.1 (%s) but lua5.1 agrees", c.code, c.noRef)
		}
	}
}

func TestStringPatterns(t *testing.T) {
	checkCases(t, []strCase{
		// classes
		{`show(string.find("hello world", "o w"))`, `5 7`, ""},
		{`show(string.match("abc123def", "%d+"))`, `"123"`, ""},
		{`show(string.match("  x", "%s*()"))`, `3`, ""},
		{`show(string.match("Hello", "%u%l+"))`, `"Hello"`, ""},
		{`show(string.match("a.b,c", "%p"))`, `"."`, ""},
		{`show(string.match("ab\1c", "%c"))`, `"\1"`, ""},
		{`show(string.match("zz0afF", "%x+"))`, `"0afF"`, ""},
		{`show(string.match("a_b1", "%w+"))`, `"a"`, ""},
		{`show(string.match("a\0b", "%z"))`, `"\0"`, ""},
		{`show(string.match("abc  def", "%S+%s+(%S+)"))`, `"def"`, ""},
		{`show(string.match("abc", "%A"))`, `nil`, ""},
		{`show(string.match("ab12", "%D+"))`, `"ab"`, ""},
		{`show(string.match("x\200y", "%a%A%a"))`, `"x\200y"`, ""},
		{`show(string.match("a+b", "%+"))`, `"+"`, ""},
		{`local t = {}
for _, c in ipairs{"a","c","d","l","p","s","u","w","x","z","A","C","D","L","P","S","U","W","X","Z"} do
  local n, sum = 0, 0
  for b = 0, 255 do if string.char(b):find("^%" .. c .. "$") then n = n + 1; sum = sum + b end end
  local m = 0
  for b = 0, 255 do if string.char(b):find("^[%" .. c .. "]$") then m = m + 1 end end
  t[#t+1] = c .. n .. ":" .. sum .. (m == n and "" or "!")
end
show(table.concat(t, " "))`, `"a52:4862 c33:623 d10:525 l26:2847 p32:2086 s6:87 u26:2015 w62:5387 x22:1527 z1:0 A204:27778 C223:32017 D246:32115 L230:29793 P224:30554 S250:32553 U230:30625 W194:27253 X234:31113 Z255:32640"`, ""},
		// sets
		{`show(string.match("hello-world", "[%w-]+"))`, `"hello-world"`, ""},
		{`show(string.match("abcxyz", "[x-z]+"))`, `"xyz"`, ""},
		{`show(string.match("abc]", "[]]"))`, `"]"`, ""},
		{`show(string.match("a^b", "[%^]"))`, `"^"`, ""},
		{`show(string.match("abc", "[^a]+"))`, `"bc"`, ""},
		{`show(string.match("a-z", "[a-]+"))`, `"a-"`, ""},
		{`show(string.match("q9", "[^%a]"))`, `"9"`, ""},
		{`show(string.match("-", "[z-a]"))`, `nil`, ""},
		// anchors, $, .
		{`show(string.find("abc", "^b"))`, `nil`, ""},
		{`show(string.find("abc", "^a"))`, `1 1`, ""},
		{`show(string.find("abc", "c$"))`, `3 3`, ""},
		{`show(string.find("a$c", "$c"))`, `2 3`, ""},
		{`show(string.find("abc", "a.c"))`, `1 3`, ""},
		{`show(string.match("a^b", "a^b"))`, `"a^b"`, ""},
		// quantifiers
		{`show(string.match("aaab", "a*"))`, `"aaa"`, ""},
		{`show(string.match("aaab", "a-b"))`, `"aaab"`, ""},
		{`show(string.match("<a><b>", "<(.-)>"))`, `"a"`, ""},
		{`show(string.match("<a><b>", "<(.*)>"))`, `"a><b"`, ""},
		{`show(string.match("b", "a+"))`, `nil`, ""},
		{`show(string.match("color colour", "colou?r", 2))`, `"colour"`, ""},
		{`show(string.match("-12", "^[+-]?%d+$"))`, `"-12"`, ""},
		// captures
		{`show(string.match("key=val", "(%w+)=(%w+)"))`, `"key" "val"`, ""},
		{`show(string.find("key=val", "(%w+)=(%w+)"))`, `1 7 "key" "val"`, ""},
		{`show(string.match("hello", "()ll()"))`, `3 5`, ""},
		{`show(string.match("abab", "(ab)%1"))`, `"ab"`, ""},
		{`show(string.match("abac", "(ab)%1"))`, `nil`, ""},
		{`show(string.match("aXa", "(.)X%1"))`, `"a"`, ""},
		{`show(string.match("xx", "()%1"))`, `nil`, ""},
		{`show(string.match("f(a(b)c)d", "%b()"))`, `"(a(b)c)"`, ""},
		{`show(string.match("f(a(b c", "%b()"))`, `nil`, ""},
		{`show(string.match("THE (quick) fox", "%f[%a]%a+"))`, `"THE"`, ""},
		{`show(string.gsub("THE (quick) fox", "%f[%a]%a+", "W"))`, `"W (W) W" 3`, ""},
		{`show(string.find("abc", "%f[%z]"))`, `4 3`, ""},
		{`show(string.match("a\0b", "a%zb"))`, `"a\0b"`, ""},
		{`show(string.match("ab", "a\0x"))`, `"a"`, ""},
		// errors
		{e(`string.find("a", "%")`), `false "malformed pattern (ends with '%')"`, ""},
		{e(`string.find("a", "[a")`), `false "malformed pattern (missing ']')"`, ""},
		{e(`string.find("a", "[a%")`), `false "malformed pattern (missing ']')"`, ""},
		{e(`string.find("a", "%1")`), `false "invalid capture index"`, ""},
		{e(`string.find("aa", "(a%1)")`), `false "invalid capture index"`, ""},
		{e(`string.match("a", "a)")`), `false "invalid pattern capture"`, ""},
		{e(`string.match("a", "(a")`), `false "unfinished capture"`, ""},
		{e(`string.find("a", "%f")`), `false "missing '[' after '%f' in pattern"`, ""},
		{e(`string.find("a", "%fa")`), `false "missing '[' after '%f' in pattern"`, ""},
		{e(`string.find("a", "%b(")`), `false "unbalanced pattern"`, ""},
		{e(`string.find("a", string.rep("()", 33))`), `false "too many captures"`, ""},
		{e(`string.find(string.rep("a", 300), string.rep("a?", 300))`), `false "pattern too complex"`,
			"Lua 5.1 has no bound on the matcher's recursion (5.2's MAXCCALLS, 200, raises this)"},
		{`show(string.match("a", string.rep("()", 32)))`, strings.TrimSpace(strings.Repeat("1 ", 32)), ""},
		// find: init and plain
		{`show(string.find("abc", "b", 10, true))`, `nil`, ""},
		{`show(string.find("abc", "b", 10))`, `nil`, ""},
		{`show(string.find("abc", "", 10))`, `4 3`, ""},
		{`show(string.find("abc", "", 4))`, `4 3`, ""},
		{`show(string.find("abc", "", 3))`, `3 2`, ""},
		{`show(string.find("abc", "", 10, true))`, `4 3`, ""},
		{`show(string.find("abc", "b", -1))`, `nil`, ""},
		{`show(string.find("abc", "b", -2))`, `2 2`, ""},
		{`show(string.find("abc", "b", -10))`, `2 2`, ""},
		{`show(string.find("abc", "a", 0))`, `1 1`, ""},
		{`show(string.find("abc", "a", "1"))`, `1 1`, ""},
		{`show(string.find("a.b", ".", 1, true))`, `2 2`, ""},
		{`show(string.find("a.b", "."))`, `1 1`, ""},
		{`show(string.find("a+b", "+", 1, 1))`, `2 2`, ""},
		{`show(string.find("a\0b", "\0b"))`, `2 3`, ""},
		{`show(string.find("a\0b.", "\0b."))`, `2 4`, ""},
		{`show(string.find("a\0bx", "\0b."))`, `nil`, ""},
		{`show(string.find(12345, 34))`, `3 4`, ""},
		{`show(string.find(1e15, "e"))`, `2 2`, ""},
		{`show(string.find("x0.1", 0.1, 1, true))`, `2 4`, ""},
		{`show(("abc"):find("b", 10, true))`, `nil`, ""},
		{`show(("Bearer abc"):match("^Bearer%s+(.+)$"))`, `"abc"`, ""},
		{`show(("").find == string.find, getmetatable("").__index == string)`, `true true`, ""},
		{e(`string.find()`), `false "bad argument #1 to 'find' (string expected, got no value)"`, ""},
		{e(`string.find("a", {})`), `false "bad argument #2 to 'find' (string expected, got table)"`, ""},
		{e(`string.find("a", "a", "x")`), `false "bad argument #3 to 'find' (number expected, got string)"`, ""},
		// gmatch
		{`for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do show(k, v) end`, "\"a\" \"1\"\n\"b\" \"2\"", ""},
		{`for w in string.gmatch("one two", "%a+") do show(w) end`, "\"one\"\n\"two\"", ""},
		{`for p in string.gmatch("abc", "()") do show(p) end`, "1\n2\n3\n4", ""},
		{`for w in string.gmatch("^a^a", "^a") do show(w) end`, "\"^a\"\n\"^a\"", ""},
		{`for w in string.gmatch("ab", "x*") do show(w) end`, "\"\"\n\"\"\n\"\"", ""},
		{`local n = 0 for w in ("a,b,,c"):gmatch("[^,]*") do n = n + 1 end show(n)`, "7", ""},
		{`for w in string.gfind("ab", ".") do show(w) end`, "\"a\"\n\"b\"", ""},
		{e(`string.gmatch("a", "%")()`), `false "malformed pattern (ends with '%')"`, ""},
	})
}

func TestStringGsub(t *testing.T) {
	checkCases(t, []strCase{
		{`show(string.gsub("hello world", "o", "0"))`, `"hell0 w0rld" 2`, ""},
		{`show(string.gsub("hello world", "(o)", "[%1%1]"))`, `"hell[oo] w[oo]rld" 2`, ""},
		{`show(string.gsub("hello", "l+", "<%0>"))`, `"he<ll>o" 1`, ""},
		{`show(string.gsub("hello", "", "-"))`, `"-h-e-l-l-o-" 6`, ""},
		{`show(string.gsub("abc", "%w", "%%"))`, `"%%%" 3`, ""},
		{`show(string.gsub("abc", "b", "%x"))`, `"axc" 1`, ""},
		{`show(string.gsub("abc", "b", "%"))`, `"a\0c" 1`, ""},
		{`show(string.gsub("abc", "b", "%1"))`, `"abc" 1`, ""},
		{`show(string.gsub("abc", "(b)()", "%2"))`, `"a3c" 1`, ""},
		{e(`string.gsub("abc", "b", "%2")`), `false "invalid capture index"`, ""},
		{e(`string.gsub("abc", "(b)", "%2")`), `false "invalid capture index"`, ""},
		{`show(string.gsub("abc", "b", 1.5))`, `"a1.5c" 1`, ""},
		{`show(string.gsub("a b c", "%a", "x", 2))`, `"x x c" 2`, ""},
		{`show(string.gsub("a b c", "%a", "x", 0))`, `"a b c" 0`, ""},
		{`show(string.gsub("a b c", "%a", "x", -1))`, `"a b c" 0`, ""},
		{`show(string.gsub("a b c", "%a", "x", "1"))`, `"x b c" 1`, ""},
		{`show(string.gsub("aaa", "^a", "b"))`, `"baa" 1`, ""},
		{`show(string.gsub("aaa", "^", "b"))`, `"baaa" 1`, ""},
		{`show(string.gsub("abc", "$", "!"))`, `"abc!" 1`, ""},
		{`show(string.gsub("x", "x", "%0%0"))`, `"xx" 1`, ""},
		// tables
		{`show(string.gsub("$a $b $c", "%$(%w)", {a = "A", b = 2}))`, `"A 2 $c" 3`, ""},
		{`show(string.gsub("a b", "%w", {a = false}))`, `"a b" 2`, ""},
		{`show(string.gsub("ab", "()", {[1] = "x", [3] = "z"}))`, `"xabz" 3`, ""},
		{`show(string.gsub("ab", "%w", setmetatable({}, {__index = function(_, k) return k:upper() end})))`, `"AB" 2`, ""},
		{e(`string.gsub("a", "a", {a = {}})`), `false "invalid replacement value (a table)"`, ""},
		{e(`string.gsub("a", "a", {a = true})`), `false "invalid replacement value (a boolean)"`, ""},
		// functions
		{`show(string.gsub("hello world", "%w+", function(w) return w:upper() end))`, `"HELLO WORLD" 2`, ""},
		{`show(string.gsub("k=v", "(%w)=(%w)", function(a, b) return b .. "=" .. a end))`, `"v=k" 1`, ""},
		{`show(string.gsub("abc", "%w", function(c) if c == "b" then return nil end return 1 end))`, `"1b1" 3`, ""},
		{`show(string.gsub("abc", "%w", function() return false end))`, `"abc" 3`, ""},
		{`show(string.gsub("abc", "b()", function(p) return p * 10 end))`, `"a30c" 1`, ""},
		{`show(string.gsub("a", "a", function() return 0.1 + 0.2 end))`, `"0.3" 1`, ""},
		{e(`string.gsub("a", "a", function() return {} end)`), `false "invalid replacement value (a table)"`, ""},
		{e(`string.gsub("a", "a", function() error("boom", 0) end)`), `false "boom"`, ""},
		{`show(pcall(string.gsub, "a", "a"))`, `false "bad argument #3 to '?' (string/function/table expected)"`, ""},
		{e(`string.gsub("a", "a", true)`), `false "bad argument #3 to 'gsub' (string/function/table expected)"`, ""},
		{`show(string.gsub(123, 2, 9))`, `"193" 1`, ""},
		{`show((string.gsub(1/3, "3", "x")))`, `"0.xxxxxxxxxxxxxx"`, ""},
	})
}

func TestStringFormat(t *testing.T) {
	checkCases(t, []strCase{
		{`show(string.format("%d %i", 42, -7))`, `"42 -7"`, ""},
		{`show(string.format("%5d|%-5d|%05d|%+d|% d|%+ d", 42, 42, 42, 42, 42, 42))`, `"   42|42   |00042|+42| 42|+42"`, ""},
		{`show(string.format("%.3d|%5.3d|%-5.3d|%05.3d|%.0d|", 7, 7, 7, 7, 0))`, `"007|  007|007  |  007||"`, ""},
		{`show(string.format("%d", 3.9), string.format("%d", -3.9), string.format("%d", "12"))`, `"3" "-3" "12"`, ""},
		{`show(string.format("%d", 2^53))`, `"9007199254740992"`, ""},
		{`show(string.format("%u|%o|%x|%X", 255, 8, 255, 255))`, `"255|10|ff|FF"`, ""},
		{`show(string.format("%#o|%#x|%#X|%#x|%#o", 8, 255, 255, 0, 0))`, `"010|0xff|0XFF|0|0"`, ""},
		{`show(string.format("%08x|%-8X|%#08x|%.4x", 255, 255, 255, 255))`, `"000000ff|FF      |0x0000ff|00ff"`, ""},
		{`show(string.format("%x", -1))`, `"ffffffffffffffff"`, ""},
		{`show(string.format("%+u|% x", 5, 5))`, `"5|5"`, ""},
		{`show(string.format("%c%c%c", 76, 117, 97))`, `"Lua"`, ""},
		{`show(string.format("%5c|%-3c|", 65, 66))`, `"    A|B  |"`, ""},
		{`show(string.format("%c", 0))`, `"\0"`, "a zero byte is kept, as LuaJIT and Lua 5.2 do (Lua 5.1 drops it: strlen of sprintf's buffer)"},
		{`show(string.format("%e|%E|%.2e|%10.1e|%-10.1e|", 12345.678, 0.00012, 1.5, -1.5, 1.5))`, `"1.234568e+04|1.200000E-04|1.50e+00|  -1.5e+00|1.5e+00   |"`, ""},
		{`show(string.format("%f|%.2f|%8.3f|%-8.1f|%08.2f|%+.1f|% .1f", 3.14159, 2.005, 3.14159, 2.5, -3.14159, 1, 1))`, `"3.141590|2.00|   3.142|2.5     |-0003.14|+1.0| 1.0"`, ""},
		{`show(string.format("%.0f|%#.0f|%#.0e|%.0e", 2.5, 3, 12345, 15))`, `"2|3.|1.e+04|2e+01"`, ""},
		{`show(string.format("%g|%g|%g|%g|%g", 100000, 1000000, 1e-4, 1e-5, 0.1))`, `"100000|1e+06|0.0001|1e-05|0.1"`, ""},
		{`show(string.format("%G|%.3g|%.0g|%#g|%10.4g|%-10.2G|", 1e-10, 3.14159, 123, 1.5, 2/3, 1e20))`, `"1E-10|3.14|1e+02|1.50000|    0.6667|1E+20     |"`, ""},
		{`show(string.format("%f|%e|%g|%G|%5.1f|%-6f|", 1/0, -1/0, 0/0, 1/0, -1/0, 1/0))`, `"inf|-inf|-nan|INF| -inf|inf   |"`, ""},
		{`show(string.format("%+f|%05f|% g", 1/0, 1/0, 1/0))`, `"+inf|  inf| inf"`, ""},
		{`show(string.format("%.14g", 0.1), string.format("%.20f", 0.1))`, `"0.1" "0.10000000000000000555"`, ""},
		{`show(string.format("%5.2s|%-5s|%s|%.1s", "abc", "ab", "x", "yz"))`, `"   ab|ab   |x|y"`, ""},
		{`show(string.format("%s %s", 1, 0.1 + 0.2), string.format("%s", 1e100))`, `"1 0.3" "1e+100"`, ""},
		{`show(string.format("%10s|", 2^63))`, `"9.2233720368548e+18|"`, ""},
		{`show(string.format("%s|%s|%s", nil, true, false))`, `"nil|true|false"`, "tostring semantics, as LuaJIT (Lua 5.1 requires a string or number)"},
		{`show(string.format("%s", setmetatable({}, {__tostring = function() return "T!" end})))`, `"T!"`, "tostring semantics, as LuaJIT (Lua 5.1 requires a string or number)"},
		{`show(string.format("%s", "a\0b"))`, `"a\0b"`, "zero bytes kept, as LuaJIT (Lua 5.1 cuts the string at its first zero byte)"},
		{`show(string.format("%q", 'a "b"\n\\c\r\0d\1'))`, `""a \"b\"\\10\\c\r\000d\1""`, ""},
		{`show(string.format("%q", 1/3))`, `""0.33333333333333""`, ""},
		{e(`string.format("%5%", 1)`), `false "invalid option '%%' to 'format'"`, ""},
		{`show(string.format("%%|%d%%", 5))`, `"%|5%"`, ""},
		{`show(string.format("%-----5d|", 1))`, `"1    |"`, ""},
		{`show(string.format("%99.99f", 1):len(), string.format("%99.1f", 1):len())`, `101 99`, ""},
		{`show(string.format("no args"))`, `"no args"`, ""},
		{`show(string.format("%d", "0x10"))`, `"16"`, ""},
		{e(`string.format("%", 1)`), `false "invalid option '%' to 'format'"`, ""},
		{e(`string.format("%10", 1)`), `false "invalid option '%' to 'format'"`, ""},
		{e(`string.format("%")`), `false "bad argument #2 to 'format' (no value)"`, ""},
		{`show(string.format("%d|%o|%e|%.2f|%g|%g|%#.3o", 2^63, -8, 0, 2.675, 1e15, 123456789, 8))`, `"-9223372036854775808|1777777777777777777770|0.000000e+00|2.67|1e+15|1.23457e+08|010"`, ""},
		{`show(string.format("%5s|%-6s|", nil, {} == nil))`, `"  nil|false |"`, "tostring semantics, as LuaJIT (Lua 5.1 requires a string or number)"},
		{e(`("x"):rep()`), `false "bad argument #2 to 'rep' (number expected, got no value)"`, "gopher-lua does not tell method calls apart: Lua 5.1 numbers arguments from self (#1)"},
		{e(`string.format("%y", 1)`), `false "invalid option '%y' to 'format'"`, ""},
		{e(`string.format("%------d", 1)`), `false "invalid format (repeated flags)"`, ""},
		{e(`string.format("%100d", 1)`), `false "invalid format (width or precision too long)"`, ""},
		{e(`string.format("%.100f", 1)`), `false "invalid format (width or precision too long)"`, ""},
		{e(`string.format("%d", "x")`), `false "bad argument #2 to 'format' (number expected, got string)"`, ""},
		{e(`string.format("%d %d", 1)`), `false "bad argument #3 to 'format' (no value)"`, ""},
		{e(`string.format("%q", {})`), `false "bad argument #2 to 'format' (string expected, got table)"`, ""},
		{e(`string.format()`), `false "bad argument #1 to 'format' (string expected, got no value)"`, ""},
		{e(`string.format("%d", {})`), `false "bad argument #2 to 'format' (number expected, got table)"`, ""},
	})
}

func TestStringOthers(t *testing.T) {
	checkCases(t, []strCase{
		{`show(string.rep("ab", 3), string.rep("x", 0), string.rep("x", -1), string.rep("", 5))`, `"ababab" "" "" ""`, ""},
		{`show(string.rep(1.5, 2), string.rep("a", 2.9), string.rep("a", "2"))`, `"1.51.5" "aa" "aa"`, ""},
		{e(`string.rep("x")`), `false "bad argument #2 to 'rep' (number expected, got no value)"`, ""},
		{`show(string.rep("x", 2^32 + 2))`, `"xx"`, ""},
		{"--noref\n" + e(`string.rep("xx", 2^30)`), `false "not enough memory"`, "lua5.1 would allocate the 2 GiB (luahost's default cap is 1 GiB)"},
		{`show(string.sub("hello", 2, 4), string.sub("hello", -3), string.sub("hello", 0), string.sub("hello", 10), string.sub("hello", 3, 2))`, `"ell" "llo" "hello" "" ""`, ""},
		{`show(string.sub("hello", -100, 2), string.sub("hello", 2, 100), string.sub(12345, 2, -2), ("x"):sub(1.9))`, `"he" "ello" "234" "x"`, ""},
		{e(`string.sub("x")`), `false "bad argument #2 to 'sub' (number expected, got no value)"`, ""},
		{`show(string.upper("aBc\200z1"), string.lower("AbC\200Z1"), string.upper(0.5))`, `"ABC\200Z1" "abc\200z1" "0.5"`, ""},
		{`local u = {} for b = 0, 255 do u[#u+1] = string.char(b) end
local s, nu, nl = table.concat(u), 0, 0
for i = 1, 256 do
  if s:upper():byte(i) ~= i - 1 then nu = nu + 1 end
  if s:lower():byte(i) ~= i - 1 then nl = nl + 1 end
end
show(nu, nl, s:upper():sub(65, 123), #s:reverse(), s:reverse():byte(1))`, `26 26 "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_` + "`" + `ABCDEFGHIJKLMNOPQRSTUVWXYZ" 256 255`, ""},
		{`show(string.len("abc"), string.len(""), string.len("a\0b"), string.len(1e15), #"abc")`, `3 0 3 5 3`, ""},
		{`show(string.byte("ABC"), string.byte("ABC", 2), string.byte("ABC", -1), string.byte("ABC", 1, -1))`, `65 66 67 65 66 67`, ""},
		{`show(string.byte("ABC", 10), string.byte("", 1), string.byte("ABC", 0), string.byte("ABC", 3, 1))`, `nil nil nil`, ""},
		{`show(string.byte("ABC", -10, 10))`, `65 66 67`, ""},
		{`show(string.byte(42))`, `52`, ""},
		{`show(string.char(72, 105), string.char(), string.char(0, 255), string.char("65"))`, `"Hi" "" "\0\255" "A"`, ""},
		{e(`string.char(256)`), `false "bad argument #1 to 'char' (invalid value)"`, ""},
		{e(`string.char(65, -1)`), `false "bad argument #2 to 'char' (invalid value)"`, ""},
		{e(`string.char("x")`), `false "bad argument #1 to 'char' (number expected, got string)"`, ""},
		{`show(string.reverse("abc"), string.reverse(""), string.reverse(123))`, `"cba" "" "321"`, ""},
		{e(`setmetatable("", {})`), `false "bad argument #1 to 'setmetatable' (table expected, got string)"`, ""},
		{`pcall(setmetatable, "", {}) show(("abc"):upper(), getmetatable("").__index == string)`, `"ABC" true`, ""},
		{`show(getmetatable(setmetatable({}, {__index = string})).__index == string)`, `true`, ""},
	})
}

// TestCasesCanFail makes sure a wrong expectation is reported: the runner
// compares what it should.
func TestCasesCanFail(t *testing.T) {
	ours, _ := runCases(t, []string{`show(string.find("abc", "b"))`, `show(string.format("%5.1f", 1/3))`})
	if ours[0] != "2 2\n" || ours[1] != "\"  0.3\"\n" {
		t.Fatalf("runner output %q", ours)
	}
}

// matcherCancelled is a context that is done for the pattern matcher and
// string.rep only: the VM, which polls Done between instructions, sees it
// live, as if the deadline passed while a string function was working.
type matcherCancelled struct{ context.Context }

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c matcherCancelled) Done() <-chan struct{} {
	pc, _, _, _ := runtime.Caller(1)
	if f := runtime.FuncForPC(pc); f != nil && (strings.Contains(f.Name(), "luavm.newMatcher") || strings.Contains(f.Name(), "luavm.strRep")) {
		return closedDone
	}
	return c.Context.Done()
}

func (c matcherCancelled) Err() error { return context.Canceled }

// TestPatternStopsAtDeadline: a pattern that backtracks for seconds stops
// with the context's error, and pcall does not swallow it.
func TestPatternStopsAtDeadline(t *testing.T) {
	for _, src := range []string{
		`return string.find(string.rep("a", 60), ".-.-.-.-.-b")`,
		`return string.match(string.rep("a", 60), "(.*)(.*)(.*)(.*)(.*)b")`,
		`return string.gsub(string.rep("a", 60), "a*a*a*a*a*b", "")`,
		`for w in string.gmatch(string.rep("a", 60), ".-.-.-.-.-b") do end`,
		`return pcall(string.find, string.rep("a", 60), ".-.-.-.-.-b")`,
		`return ("x"):rep(60):find(".-.-.-.-.-b")`,
	} {
		stopsAtDeadline(t, src)
	}
}

// stopsAtDeadline runs src in a state whose context is done for the string
// functions only, and expects the context's error.
func stopsAtDeadline(t *testing.T, src string) {
	t.Helper()
	L := NewState(Options{})
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(matcherCancelled{ctx})
	if err := L.DoString(src); err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Errorf("%s: err = %v, want %v", src, err, context.Canceled)
	}
}

// TestRepStopsAtDeadline: building a large string.rep result polls the
// deadline.
func TestRepStopsAtDeadline(t *testing.T) {
	stopsAtDeadline(t, `return #string.rep("abc", 50000000)`)
	L := NewState(Options{})
	defer L.Close()
	if err := L.DoString(`assert(#string.rep("abc", 1000000) == 3000000)`); err != nil {
		t.Fatal(err)
	}
}

// TestPatternStopsWithoutVM: the matcher itself polls the context (the VM
// does not run between the call and the error).
func TestPatternStopsWithoutVM(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	L.SetContext(ctx)
	cancel()
	err := L.CallByParam(lua.P{Fn: L.NewFunction(strFind), NRet: 1, Protect: true},
		lua.LString(strings.Repeat("a", 60)), lua.LString(".-.-.-.-.-b"))
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v, want context canceled", err)
	}
	// with a live context the same call completes
	L2 := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L2.Close()
	L2.SetContext(context.Background())
	if err := L2.CallByParam(lua.P{Fn: L2.NewFunction(strFind), NRet: 1, Protect: true},
		lua.LString(strings.Repeat("a", 12)), lua.LString(".-.-b")); err != nil {
		t.Fatal(err)
	}
	if L2.Get(-1) != lua.LNil {
		t.Fatalf("find = %v, want nil", L2.Get(-1))
	}
}

func TestLongSubjectNoDeepRecursion(t *testing.T) {
	out := run(t, `
local s = string.rep("a", 1048576)
print(#s:match(".-$"), #s:match("a*"), #s:match("(.+)b?$"), select(2, s:gsub(".", "")), s:find("b"))`)
	if out != "1048576\t1048576\t1048576\t1048576\tnil\n" {
		t.Fatalf("got %q", out)
	}
}

func TestRepLimit(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	SetMaxStringSize(L, 1000)
	if err := L.DoString(`assert(#string.rep("ab", 500) == 1000)`); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{`string.rep("ab", 501)`, `string.gsub(string.rep("a", 600), "a", "bb")`} {
		err := L.DoString(src)
		if err == nil || !strings.Contains(err.Error(), "not enough memory") {
			t.Errorf("%s: err = %v, want not enough memory", src, err)
		}
	}
}

// patternSeeds are FuzzPattern's seed corpus, also compared with lua5.1.
var patternSeeds = [][2]string{
	{"hello world", "o"}, {"hello world", "(o)(.)"}, {"hello", "l*"}, {"hello", "l-"},
	{"aaa", "a-b"}, {"f(a(b)c)", "%b()"}, {"THE (quick)", "%f[%a]%a+"}, {"abab", "(a)(b)%2%1"},
	{"x=1,y=2", "(%w+)=(%w+)"}, {"", ""}, {"abc", "^"}, {"abc", "$"}, {"abc", "[a-"},
	{"abc", "%"}, {"abc", "(()"}, {"abc", ")"}, {"abc", "%9"}, {"a\x00b", "%z"}, {"a.b", "[.]"},
	{"]]", "[]]"}, {"a-b", "[%a-]+"}, {"abc", "[^%s]+"}, {"  x  ", "^%s*(.-)%s*$"},
	{"key: value", "^(%w+):%s*(.*)$"}, {"abc", "%f[%w]"}, {"abc", "%f"}, {"abc", "%bx"},
	{"aaaa", "a?a?a?"}, {"abc", ".-()"}, {"abc", "[%]"}, {"abc", "[a%]"}, {"ab", "(a(b))"},
	{"192.168.0.1", "^(%d+)%.(%d+)%.(%d+)%.(%d+)$"}, {"/api/v1/users", "^/api/(v%d+)/(.*)"},
}

// patternProbe is Lua code exercising a pattern p over a subject s with
// find, match, gmatch and gsub, errors included.
const patternProbe = `
show(pcall(string.find, S, P))
show(pcall(string.find, S, P, 2))
show(pcall(string.match, S, P))
show(pcall(string.gsub, S, P, "<%0>"))
show(pcall(string.gsub, S, P, "%1|%2%%", 3))
show(pcall(string.gsub, S, P, function(a, b) return b end))
show(pcall(function() local t = {} for a, b in string.gmatch(S, P) do t[#t+1] = tostring(a) .. "," .. tostring(b) if #t > 20 then break end end return table.concat(t, ";") end))
`

func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "\\%d", s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func probeCode(s, p string) string {
	return "local S, P = " + luaQuote(s) + ", " + luaQuote(p) + "\n" + patternProbe
}

func TestPatternSeedsAgainstLua51(t *testing.T) {
	codes := make([]string, len(patternSeeds))
	for i, sp := range patternSeeds {
		codes[i] = probeCode(sp[0], sp[1])
	}
	ours, ref := runCases(t, codes)
	if ref == nil {
		t.Skip("lua5.1 not installed")
	}
	for i, sp := range patternSeeds {
		if ours[i] != ref[i] {
			t.Errorf("subject %q pattern %q:\n ours: %q\nlua5.1: %q", sp[0], sp[1], ours[i], ref[i])
		}
	}
}

// FuzzPattern: no pattern and subject make the string functions panic in
// Go; only Lua errors (*lua.ApiError) come out.
func FuzzPattern(f *testing.F) {
	for _, sp := range patternSeeds {
		f.Add(sp[0], sp[1])
	}
	fns := []lua.LGFunction{strFind, strMatch, strGsub, strGmatch}
	f.Fuzz(func(t *testing.T, s, p string) {
		if len(s) > 256 || len(p) > 64 {
			return
		}
		for i, fn := range fns {
			func() {
				L := lua.NewState(lua.Options{SkipOpenLibs: true})
				defer L.Close()
				// a safety net for exponential patterns, not an
				// assertion: when it fires the matcher raises a Lua error
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				L.SetContext(ctx)
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(*lua.ApiError); !ok {
							t.Fatalf("fn %d, subject %q pattern %q: Go panic %v", i, s, p, r)
						}
					}
				}()
				args := []lua.LValue{lua.LString(s), lua.LString(p)}
				if i == 2 {
					args = append(args, lua.LString("<%0%1>"))
				}
				// unprotected: a Lua error panics with *lua.ApiError,
				// anything else is a bug
				L.CallByParam(lua.P{Fn: L.NewFunction(fn), NRet: lua.MultRet, Protect: false}, args...)
				if i == 3 {
					if it, ok := L.Get(-1).(*lua.LFunction); ok {
						for k := 0; k < 10; k++ {
							L.CallByParam(lua.P{Fn: it, NRet: 1, Protect: false})
							if L.Get(-1) == lua.LNil {
								break
							}
						}
					}
				}
			}()
		}
	})
}

// TestPatternRandomAgainstLua51 compares find, match, gmatch and gsub with
// lua5.1 on random patterns built from pattern items (a fixed seed: the
// same pairs every run).
func TestPatternRandomAgainstLua51(t *testing.T) {
	items := []string{"a", "b", ".", "%a", "%d", "%s", "[ab]", "[^a]", "[%d)]", "(", ")", "()",
		"*", "+", "-", "?", "^", "$", "%1", "%2", "%b()", "%f[%a]", "%f[^a]", "%", "[", "]", "%%", "%(", "x"}
	subj := "ab1 ()xA"
	rng := rand.New(rand.NewPCG(5, 1))
	var pairs [][2]string
	for len(pairs) < 1000 {
		var p, s strings.Builder
		for n := rng.IntN(6) + 1; n > 0; n-- {
			p.WriteString(items[rng.IntN(len(items))])
		}
		for n := rng.IntN(10); n > 0; n-- {
			s.WriteByte(subj[rng.IntN(len(subj))])
		}
		pairs = append(pairs, [2]string{s.String(), p.String()})
	}
	codes := make([]string, len(pairs))
	for i, sp := range pairs {
		codes[i] = probeCode(sp[0], sp[1])
	}
	ours, ref := runCases(t, codes)
	if ref == nil {
		t.Skip("lua5.1 not installed")
	}
	bad := 0
	for i, sp := range pairs {
		if ours[i] != ref[i] {
			if bad++; bad <= 10 {
				t.Errorf("subject %q pattern %q:\n  ours: %q\nlua5.1: %q", sp[0], sp[1], ours[i], ref[i])
			}
		}
	}
}

// TestFormatRandomAgainstLua51 compares string.format with lua5.1 on random
// conversions: flags, width, precision and conversion letter drawn at
// random, over numbers (and strings for %s and %q) chosen to hit signs,
// rounding, exponents, large values, infinities and NaN.
func TestFormatRandomAgainstLua51(t *testing.T) {
	nums := []string{"0", "-0", "1", "-1", "3.5", "-2.5", "255", "1e10", "1e-5", "123456.789", "2^53",
		"-2^31", "0.1", "2/3", "-1e-300", "1e300", "1/0", "-1/0", "0/0", "65", "7.999999", "0.5", "1.5"}
	strs := []string{`""`, `"abc"`, `"a\0b\n\"\\\r"`, `"hello world"`, "12", "0.1"}
	convs := "diouxXeEfgGcsq"
	rng := rand.New(rand.NewPCG(7, 3))
	var codes []string
	for len(codes) < 2000 {
		var f strings.Builder
		f.WriteByte('%')
		for n := rng.IntN(4); n > 0; n-- {
			f.WriteByte("-+ #0"[rng.IntN(5)])
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&f, "%d", rng.IntN(30))
		}
		if rng.IntN(2) == 0 {
			f.WriteByte('.')
			if rng.IntN(4) > 0 {
				fmt.Fprintf(&f, "%d", rng.IntN(20))
			}
		}
		c := convs[rng.IntN(len(convs))]
		f.WriteByte(c)
		var arg string
		switch c {
		case 'q':
			arg = strs[rng.IntN(len(strs))]
		case 's':
			// not the string with a zero byte: %s keeps it (LuaJIT), Lua
			// 5.1 cuts there
			arg = strs[rng.IntN(len(strs))]
			if strings.Contains(arg, `\0`) {
				arg = strs[1]
			}
		case 'c':
			arg = fmt.Sprint(rng.IntN(255) + 1)
		default:
			arg = nums[rng.IntN(len(nums))]
		}
		codes = append(codes, fmt.Sprintf("show(pcall(string.format, %q, %s))", "["+f.String()+"]", arg))
	}
	ours, ref := runCases(t, codes)
	if ref == nil {
		t.Skip("lua5.1 not installed")
	}
	bad := 0
	for i, c := range codes {
		if ours[i] != ref[i] {
			if bad++; bad <= 15 {
				t.Errorf("%s\n  ours: %q\nlua5.1: %q", c, ours[i], ref[i])
			}
		}
	}
}
