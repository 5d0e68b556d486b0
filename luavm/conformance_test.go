package luavm

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The differential conformance suite: every testdata/conformance/<area>/x.lua
// runs in luahost's VM and in PUC Lua 5.1 (the lua5.1 binary), and the two
// outputs must be equal. The lua5.1 output is kept next to the snippet as
// x.out (go test ./luavm -run Conformance -update rewrites them), so the
// comparison runs against the golden files where lua5.1 is not installed.
//
// A snippet whose divergence is known and explained is listed in
// knownDivergences; the test then asserts that it still diverges, so a fix
// turns it into a failure asking to remove it from the list.

var update = flag.Bool("update", false, "rewrite the conformance golden files (x.out) from lua5.1's output")

// knownDivergences maps a snippet (path under testdata/conformance) to the
// reason luahost's output differs from Lua 5.1's.
var knownDivergences = map[string]string{
	// gopher-lua's VM (not a library function: luavm cannot replace it)
	"coercion/for_loop_string_bounds.lua":   "VM: a numeric for does not convert string bounds to numbers (\"'for' initial value must be a number\")",
	"coercion/leading_zero_strings.lua":     "VM: arithmetic reads strings with a leading 0 as octal: \"010\" + 0 is 8, not 10 (tonumber is right)",
	"metatables/index_rawequal_loop.lua":    "VM: \"too many recursions in gettable\" instead of \"loop in gettable\"",
	"errors/runtime_messages_coroutine.lua": "VM: a runtime error raised in a coroutine keeps gopher-lua's wording (no variable named): gopher-lua clears the coroutine's registers before resume returns, and no error function of luavm runs inside it",
	"metatables/len_on_tables.lua":          "VM: # calls __len on tables (Lua 5.1 does not)",
	"numbers/mod_zero.lua":                  "VM: a % 0 is Go's math.Mod NaN, printed \"nan\"; Lua 5.1's a - floor(a/0)*0 is \"-nan\"",
	"numbers/nan_arith_signs.lua":           "VM: (-8)^(1/3) is Go's math.Pow NaN, printed \"nan\"; C's pow gives \"-nan\"",
	"numbers/mod_float_formula.lua":         "VM: a % b is Go's exact math.Mod (then adjusted to b's sign); Lua 5.1 computes a - floor(a/b)*b, which rounds: 123456789012345 % 1e-5 is 8.576323699546e-07, not 0",
	"numbers/negative_zero_arith.lua":       "VM: an arithmetic result of -0 is stored as +0 (gopher-lua's allocator takes -0 for its preloaded integer 0); only unary minus keeps -0",
	"numbers/mod_infinity.lua":              "VM: a % ±inf is a (Lua 5.1 computes a - floor(a/b)*b: nan)",
	"tables/next_invalid_key.lua":           "gopher-lua's tables: next with a key not in the table returns nil instead of raising \"invalid key to 'next'\"",
	// the lead's files (open.go, protect.go)
	"misc/print_nul.lua": "open.go: print writes a string's bytes past a NUL (as LuaJIT does); lua5.1's print (fputs) stops at the NUL",
	// PUC-style syntax errors: the luavm/syntax branch
	// the string library: the strlib branch
	"strings/format_s_tostring.lua": "on purpose: string.format(\"%s\", v) applies tostring (__tostring, nil, booleans) as LuaJIT, which Kong runs on, does; Lua 5.1 wants a string or a number",
}

const conformanceDir = "testdata/conformance"

// luaDriver runs the snippet named by arg[1] in lua5.1 as runSnippet runs it
// in luahost: loaded with loadfile (chunk name "@x.lua"), called in a
// protected call, an uncaught error printed as its message.
const luaDriver = `
local f, err = loadfile(arg[1])
if not f then print(err) return end
local ok, e = pcall(f)
if not ok then
  local t = type(e)
  if t == "string" or t == "number" then print(e)
  else print("(error object is a " .. t .. " value)") end
end
`

func TestMain(m *testing.M) {
	// os.date and os.time without '!' use the local time zone: lua5.1
	// runs with TZ=UTC, luahost's state with Go's UTC.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// lua51 returns the path of the lua5.1 binary and of the driver script, or
// skips the test (fails it when CI=true) if lua5.1 is not installed.
func lua51(t testing.TB) (bin, driver string, ok bool) {
	bin, err := exec.LookPath("lua5.1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lua5.1 is not installed (CI=true): %v", err)
		}
		return "", "", false
	}
	dir := t.TempDir()
	driver = filepath.Join(dir, "driver.lua")
	if err := os.WriteFile(driver, []byte(luaDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, driver, true
}

// runLua51 runs file (a path) in lua5.1 through the driver, from file's
// directory, and returns stdout and stderr.
func runLua51(t testing.TB, bin, driver, file string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, driver, filepath.Base(file))
	cmd.Dir = filepath.Dir(file)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lua5.1 %s: %v\n%s", file, err, out)
	}
	return string(out)
}

// runLuahost runs src, named chunk, in a fresh luahost state as the driver
// runs it in lua5.1, and returns what it printed.
func runLuahost(t testing.TB, chunk string, src []byte) (output string) {
	t.Helper()
	var out bytes.Buffer
	defer func() {
		// a Go panic escaping the VM is a divergence too (Lua 5.1 raises
		// an error or crashes only on a bug of its own)
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if i := strings.Index(msg, "\n"); i >= 0 {
				msg = msg[:i]
			}
			output = out.String() + "luahost panic: " + msg + "\n"
		}
	}()
	L := NewState(Options{Stdout: &out})
	defer L.Close()
	// a safety net for a snippet that loops in luahost, not a timing
	// assertion: the run fails with its output so far
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	L.SetContext(ctx)
	proto, err := Compile(chunk, src)
	if err != nil {
		out.WriteString(err.Error() + "\n")
		return out.String()
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := PCall(L, 0, 0, false); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("%s did not finish: %v\noutput so far:\n%s", chunk, err, out.String())
		}
		switch e := errorObject(err).(type) {
		case lua.LString:
			out.WriteString(string(e) + "\n")
		case lua.LNumber:
			out.WriteString(FormatNumber(float64(e)) + "\n")
		default:
			out.WriteString("(error object is a " + e.Type().String() + " value)\n")
		}
	}
	return out.String()
}

// snippets lists the conformance snippets, as paths relative to
// conformanceDir.
func snippets(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir(conformanceDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".lua") {
			rel, _ := filepath.Rel(conformanceDir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func TestConformance(t *testing.T) {
	bin, driver, haveLua := lua51(t)
	if !haveLua {
		t.Log("lua5.1 not installed: comparing with the golden files only")
	}
	if *update && !haveLua {
		t.Fatal("-update needs lua5.1")
	}
	files := snippets(t)
	if len(files) == 0 {
		t.Fatal("no conformance snippets")
	}
	seen := map[string]bool{}
	for _, rel := range files {
		seen[rel] = true
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(conformanceDir, filepath.FromSlash(rel))
			golden := strings.TrimSuffix(path, ".lua") + ".out"
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want string
			if haveLua {
				want = runLua51(t, bin, driver, path)
				if *update {
					if err := os.WriteFile(golden, []byte(want), 0o644); err != nil {
						t.Fatal(err)
					}
				} else if g, err := os.ReadFile(golden); err != nil {
					t.Fatalf("no golden file (run with -update): %v", err)
				} else if string(g) != want {
					t.Fatalf("golden file %s is stale (run with -update):\n--- golden\n%s--- lua5.1\n%s", golden, g, want)
				}
			} else {
				g, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("no golden file: %v", err)
				}
				want = string(g)
			}
			got := runLuahost(t, filepath.Base(path), src)
			if reason, known := knownDivergences[rel]; known {
				if got == want {
					t.Fatalf("%s no longer diverges from Lua 5.1 (known divergence: %s): remove it from knownDivergences", rel, reason)
				}
				return
			}
			if got != want {
				t.Fatalf("luahost differs from Lua 5.1\n%s", diffLines(want, got))
			}
		})
	}
	for rel := range knownDivergences {
		if !seen[rel] {
			t.Errorf("knownDivergences lists %s, which is not a snippet", rel)
		}
	}
}

// diffLines shows both outputs, marking the lines that differ.
func diffLines(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var b strings.Builder
	n := max(len(w), len(g))
	for i := 0; i < n; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			b.WriteString("    " + wl + "\n")
			continue
		}
		if i < len(w) {
			b.WriteString("lua " + wl + "\n")
		}
		if i < len(g) {
			b.WriteString("got " + gl + "\n")
		}
	}
	return b.String()
}
