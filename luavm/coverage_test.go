package luavm

import (
	"bytes"
	"strings"
	"testing"
)

// Instrumented chunks count each line's hits, from every state opened
// while coverage is on, through nested functions, loops and branches; the
// chunk behaves as before; the stats file is LuaCov's format.
func TestCoverageCountsLines(t *testing.T) {
	c := &Coverage{}
	SetCoverage(c)
	defer SetCoverage(nil)
	src := `local M = {}
function M.f(n)
  local s = 0
  for i = 1, n do
    s = s + i
  end
  if s > 100 then
    return "big"
  elseif s > 5 then
    return "mid"
  end
  return "small"
end
local function never() return 1 end
return M
`
	for run := 0; run < 2; run++ {
		proto, err := CompileCovered(c, "m.lua", "m.lua", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		L := NewState(Options{})
		L.Push(L.NewFunctionFromProto(proto))
		if err := L.PCall(0, 1, nil); err != nil {
			t.Fatal(err)
		}
		if err := L.DoString(`local M = ...`); err != nil {
			t.Fatal(err)
		}
		m := L.Get(-1)
		L.Pop(1)
		L.SetGlobal("M", m)
		if err := L.DoString(`assert(M.f(3) == "mid"); assert(M.f(1) == "small")`); err != nil {
			t.Fatal(err)
		}
		L.Close()
	}
	files := c.Files()
	if len(files) != 1 || files[0].Name != "m.lua" {
		t.Fatalf("files: %+v", files)
	}
	f := files[0]
	want := map[int]uint64{1: 2, 2: 2, 3: 4, 4: 4, 5: 8, 7: 4, 9: 4, 10: 2, 12: 2, 14: 2, 15: 2, 8: 0}
	for line, n := range want {
		if f.Hits[line] != n || !f.Exec[line] {
			t.Errorf("line %d: %d hits (exec %v), want %d", line, f.Hits[line], f.Exec[line], n)
		}
	}
	if f.Exec[6] || f.Exec[13] {
		t.Errorf("'end' lines are not statements: %v", f.Exec)
	}
	hit, missed := f.Covered()
	if hit != 11 || missed != 1 {
		t.Errorf("covered %d/%d, want 11 hit, 1 missed", hit, missed)
	}
	var b bytes.Buffer
	if err := WriteStats(&b, files); err != nil {
		t.Fatal(err)
	}
	wantStats := "15:m.lua\n2 2 4 4 8 0 4 0 4 2 0 2 0 2 2 \n"
	if b.String() != wantStats {
		t.Errorf("stats:\n%q\nwant\n%q", b.String(), wantStats)
	}
}

// Without coverage on, Compile adds nothing: no global, no counter.
func TestCoverageOffByDefault(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	if L.GetGlobal(CoverageGlobal).String() != "nil" {
		t.Fatal("coverage global set with coverage off")
	}
	proto, err := Compile("m.lua", []byte("local a = 1\nreturn a"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range proto.Constants {
		if strings.Contains(c.String(), CoverageGlobal) {
			t.Fatal("chunk instrumented with coverage off")
		}
	}
}
