package luavm

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// withSplit runs fn with the splitter's limits set to split (nearly)
// everything it can, then puts them back.
func withSplit(threshold, budget int, fn func()) {
	t, b := splitThreshold, splitBudget
	splitThreshold, splitBudget = threshold, budget
	defer func() { splitThreshold, splitBudget = t, b }()
	fn()
}

// Splitting changes nothing a program prints: every conformance snippet and
// the differential programs give the same output with every function split
// into as many closures as the splitter can make (a constant per helper,
// budget 1, and a few per helper, budget 5) as compiled normally. The
// snippets that print tracebacks, error levels ≥ 2 or debug information
// would show the extra frames: the splitter does not move code that names
// debug, getfenv, setfenv or module, and the rest is listed.
func TestSplitKeepsBehaviour(t *testing.T) {
	programs := map[string][]byte{}
	for _, rel := range snippets(t) {
		src, err := os.ReadFile(filepath.Join(conformanceDir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		programs[rel] = src
	}
	for seed := int64(1); seed <= 100; seed++ {
		programs[fmt.Sprint("generated/", seed)] = []byte(genProgram(seedBytes(seed)))
	}
	split := 0
	for name, src := range programs {
		want := runLuahost(t, filepath.Base(name), src)
		plain, err := Compile(name, src)
		for _, budget := range []int{1, 5} {
			var got string
			var proto *lua.FunctionProto
			withSplit(0, budget, func() {
				got = runLuahost(t, filepath.Base(name), src)
				proto, _ = Compile(name, src)
			})
			if err == nil && countProtos(proto) > countProtos(plain) {
				split++
			}
			if got != want {
				t.Errorf("%s (budget %d): split output differs\n%s", name, budget, diffLines(want, got))
			}
		}
	}
	// most programs must have been split for this test to mean anything
	t.Logf("%d of %d runs split something", split, 2*len(programs))
	if split < len(programs) {
		t.Fatalf("only %d of %d runs split anything", split, 2*len(programs))
	}
}

func maxConstants(p *lua.FunctionProto) int {
	n := len(p.Constants)
	for _, c := range p.FunctionPrototypes {
		n = max(n, maxConstants(c))
	}
	return n
}

func countProtos(p *lua.FunctionProto) int {
	if p == nil {
		return 0
	}
	n := 1
	for _, c := range p.FunctionPrototypes {
		n += countProtos(c)
	}
	return n
}

// Random constructors (positional and keyed fields, keys on the indices of
// the same and other blocks of 50, calls and ... as last items and as keyed
// values, nested tables) print the same in luahost as in Lua 5.1, compiled
// normally and split.
func TestConstructorsAgainstLua51(t *testing.T) {
	bin, driver, ok := lua51(t)
	if !ok {
		t.Skip("lua5.1 not installed")
	}
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	b.WriteString(`local log = {}
local function v(x) log[#log + 1] = tostring(x) return x end
local function three() return 1, nil, 3 end
local function two() return "p", "q" end
local function dump(t)
  local keys = {}
  for k, x in pairs(t) do
    if type(x) == "table" then x = "{" .. dump(x) .. "}" end
    keys[#keys + 1] = tostring(k) .. "=" .. tostring(x)
  end
  table.sort(keys)
  return table.concat(keys, ",")
end
local function run(...)
`)
	for c := 0; c < 60; c++ {
		fmt.Fprintf(&b, "  log = {}\n  print(%d, dump(%s), table.concat(log, \" \"))\n", c, genConstructor(r, 0))
	}
	b.WriteString("end\nrun(\"a\", nil, \"c\")\nrun()\n")
	prog := []byte(b.String())
	path := filepath.Join(t.TempDir(), "constructors.lua")
	if err := os.WriteFile(path, prog, 0o644); err != nil {
		t.Fatal(err)
	}
	want := runLua51(t, bin, driver, path)
	if got := runLuahost(t, "constructors.lua", prog); got != want {
		t.Errorf("luahost differs from Lua 5.1\n%s", diffLines(want, got))
	}
	withSplit(0, 3, func() {
		if got := runLuahost(t, "constructors.lua", prog); got != want {
			t.Errorf("split: luahost differs from Lua 5.1\n%s", diffLines(want, got))
		}
	})
}

// genConstructor returns a random table constructor.
func genConstructor(r *rand.Rand, depth int) string {
	n := r.Intn(8)
	if r.Intn(3) == 0 {
		n = 45 + r.Intn(70) // around one or two blocks of 50
	}
	var fields []string
	pos := 0
	for i := 0; i < n; i++ {
		last := i == n-1
		switch k := r.Intn(10); {
		case k < 5:
			pos++
			fields = append(fields, genValue(r, depth, last, pos))
		case k < 7:
			// an index of this block, of an earlier one, or just past
			key := 1 + r.Intn(pos+3)
			fields = append(fields, fmt.Sprintf("[v(%d)] = %s", key, genValue(r, depth, last, -key)))
		case k < 8:
			fields = append(fields, fmt.Sprintf("[%d] = %s", 1+r.Intn(pos+3), genValue(r, depth, last, 0)))
		default:
			fields = append(fields, fmt.Sprintf("k%d = %s", r.Intn(5), genValue(r, depth, last, 0)))
		}
	}
	return "{ " + strings.Join(fields, ", ") + " }"
}

func genValue(r *rand.Rand, depth int, last bool, tag int) string {
	switch k := r.Intn(10); {
	case k < 4:
		return fmt.Sprintf("%q", fmt.Sprint("s", tag))
	case k < 5:
		return fmt.Sprintf("v(%d)", tag)
	case k < 6 && depth < 2:
		return genConstructor(r, depth+1)
	case k < 7 && last:
		return "three()"
	case k < 8 && last:
		return "..."
	case k < 9:
		return "two()"
	default:
		return "nil"
	}
}

// dataFile returns a Lua data file of n records (`return { {...}, ... }`),
// about 95 bytes each, every one with distinct strings and numbers.
func dataFile(n int) []byte {
	var b strings.Builder
	b.WriteString("return {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  { id = %d, name = \"name-%d\", weight = %d.25, tags = { \"t%d\", \"u%d\" }, note = \"n%05d\" },\n", i, i, i, i, i, i)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// A 2 MB data file (one constructor, ~150 000 distinct constants) compiles
// into functions of at most splitThreshold constants and evaluates to its
// values; unsplit, gopher-lua takes minutes on it. Also a constructor past
// SETLIST's 25 550 items (gopher-lua stored the rest at negative indices)
// and a file of statements (M.k = v lines).
func TestLargeDataFiles(t *testing.T) {
	src := dataFile(24000)
	if len(src) < 2<<20 {
		t.Fatalf("data file is %d bytes, want ≥ 2 MB", len(src))
	}
	L := NewState(Options{})
	defer L.Close()
	run := func(name string, src []byte) lua.LValue {
		t.Helper()
		proto, err := Compile(name, src)
		if err != nil {
			t.Fatal(err)
		}
		// what keeps compilation linear: no function has a large
		// constant table
		if n := maxConstants(proto); n > splitThreshold {
			t.Fatalf("%s: a function has %d constants", name, n)
		}
		L.Push(L.NewFunctionFromProto(proto))
		if err := PCall(L, 0, 1, false); err != nil {
			t.Fatal(err)
		}
		v := L.Get(-1)
		L.Pop(1)
		return v
	}

	// 30 000 items of one constant: no function is over the threshold,
	// but SETLIST cannot address them
	var b strings.Builder
	b.WriteString("return {")
	for i := 0; i < 30000; i++ {
		b.WriteString("7,")
	}
	b.WriteString("8}")
	tb := run("items.lua", []byte(b.String())).(*lua.LTable)
	if tb.Len() != 30001 || tb.RawGetInt(30001) != lua.LNumber(8) {
		t.Fatalf("items.lua: len %d, last %v", tb.Len(), tb.RawGetInt(30001))
	}
	n := 0
	tb.ForEach(func(k, v lua.LValue) {
		if kn, ok := k.(lua.LNumber); !ok || kn < 1 || kn > 30001 || (kn <= 30000 && v != lua.LNumber(7)) {
			t.Fatalf("items.lua: t[%v] = %v", k, v)
		}
		n++
	})
	if n != 30001 {
		t.Fatalf("items.lua: %d entries", n)
	}

	// statements, and a local table filled by them
	b.Reset()
	b.WriteString("local M = {}\nlocal n = 0\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "M[\"k%d\"] = %d.5 n = n + 1\n", i, i)
	}
	b.WriteString("M.n = n\nreturn M\n")
	tb = run("stmts.lua", []byte(b.String())).(*lua.LTable)
	if tb.RawGetString("n") != lua.LNumber(20000) || tb.RawGetString("k19999") != lua.LNumber(19999.5) || tb.RawGetString("k0") != lua.LNumber(0.5) {
		t.Fatalf("stmts.lua: n=%v k19999=%v", tb.RawGetString("n"), tb.RawGetString("k19999"))
	}

	// the 2 MB data file
	tb, ok := run("data.lua", src).(*lua.LTable)
	if !ok || tb.Len() != 24000 {
		t.Fatalf("data.lua: want 24000 records, got %v", tb)
	}
	for i := 1; i <= 24000; i++ {
		rec, ok := tb.RawGetInt(i).(*lua.LTable)
		if !ok {
			t.Fatalf("record %d: %v", i, tb.RawGetInt(i))
		}
		id := i - 1
		tags, _ := rec.RawGetString("tags").(*lua.LTable)
		if rec.RawGetString("id") != lua.LNumber(id) || rec.RawGetString("name") != lua.LString(fmt.Sprint("name-", id)) ||
			rec.RawGetString("weight") != lua.LNumber(float64(id)+0.25) || tags == nil ||
			tags.RawGetInt(1) != lua.LString(fmt.Sprint("t", id)) || tags.RawGetInt(2) != lua.LString(fmt.Sprint("u", id)) ||
			rec.RawGetString("note") != lua.LString(fmt.Sprintf("n%05d", id)) {
			t.Fatalf("record %d: id=%v name=%v weight=%v tags=%v", i, rec.RawGetString("id"), rec.RawGetString("name"), rec.RawGetString("weight"), tags)
		}
	}
}

// The compile time of a data file as it grows: "split" is Compile, "gopher"
// is gopher-lua's compiler on the unsplit tree (quadratic in the distinct
// constants of one function; its 16 000-record run takes minutes and is
// left out).
func BenchmarkCompileDataFile(b *testing.B) {
	for _, n := range []int{500, 2000, 8000, 32000} {
		src := dataFile(n)
		b.Run(fmt.Sprintf("split/%dKB", len(src)>>10), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Compile("data.lua", src); err != nil {
					b.Fatal(err)
				}
			}
		})
		if n > 8000 {
			continue
		}
		b.Run(fmt.Sprintf("gopher/%dKB", len(src)>>10), func(b *testing.B) {
			withSplit(1<<30, splitBudget, func() {
				for i := 0; i < b.N; i++ {
					if _, err := Compile("data.lua", src); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
