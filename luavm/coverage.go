package luavm

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// Line coverage (luahost test --coverage). gopher-lua has no per-line
// debug hook, so covered chunks are instrumented when they are compiled:
// the chunk starts with
//
//	local (cov) = __luahost_coverage(<unit>)
//
// and every statement that begins a new line of its block is preceded by
// the call (cov)(<line>), which counts a hit for that line. The names in
// parentheses cannot clash with a Lua name. __luahost_coverage is a global
// of every state opened while coverage is on; a chunk's functions reach
// (cov) as an upvalue, so the count does not depend on the environment a
// plugin gives them. The counters are Go atomics: hits from every Lua state
// of the process (the spec runner's, and the workers of the nodes
// start_kong runs) land in the same place.

// Coverage collects line hits of instrumented chunks.
type Coverage struct {
	// Include says whether the file at path is covered and under which
	// name it is reported (LuaCov's file name).
	Include func(path string) (name string, ok bool)

	mu    sync.Mutex
	units []*coverUnit
}

// coverUnit is one compiled chunk's counters.
type coverUnit struct {
	name    string
	retired atomic.Bool     // by Reset: not reported any more
	hits    []atomic.Uint64 // by line
	exec    []bool          // the lines holding a counted statement
}

var activeCoverage atomic.Pointer[Coverage]

// SetCoverage turns coverage on for the states opened and the chunks
// compiled from now on (nil turns it off).
func SetCoverage(c *Coverage) { activeCoverage.Store(c) }

// ActiveCoverage is the collector SetCoverage installed, or nil.
func ActiveCoverage() *Coverage { return activeCoverage.Load() }

// CoverageGlobal is the global the instrumented chunks look their counters
// up with.
const CoverageGlobal = "__luahost_coverage"

const coverLocal = "(cov)"

// installCoverage gives L the coverage global when coverage is on.
func installCoverage(L *lua.LState) {
	c := ActiveCoverage()
	if c == nil {
		return
	}
	L.G.Global.RawSetString(CoverageGlobal, L.NewFunction(func(L *lua.LState) int {
		n, _ := L.Get(1).(lua.LNumber)
		u := c.unit(int(n))
		if u == nil {
			L.RaiseError("%s: no coverage unit %d", CoverageGlobal, int(n))
		}
		L.Push(L.NewFunction(func(L *lua.LState) int {
			if line, ok := L.Get(1).(lua.LNumber); ok {
				if i := int(line); i > 0 && i < len(u.hits) {
					u.hits[i].Add(1)
				}
			}
			return 0
		}))
		return 1
	}))
}

func (c *Coverage) unit(i int) *coverUnit {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.units) {
		return nil
	}
	return c.units[i]
}

// CompileCovered is Compile with the chunk instrumented for c, its hits
// reported under name.
func CompileCovered(c *Coverage, chunk, name string, src []byte) (*lua.FunctionProto, error) {
	return compile(chunk, src, func(stmts []ast.Stmt) []ast.Stmt {
		ins := &instrumenter{}
		body := ins.function(stmts)
		u := &coverUnit{name: name, hits: make([]atomic.Uint64, ins.max+1), exec: make([]bool, ins.max+1)}
		for l := range ins.lines {
			u.exec[l] = true
		}
		c.mu.Lock()
		idx := len(c.units)
		c.units = append(c.units, u)
		c.mu.Unlock()
		prologue := &ast.LocalAssignStmt{Names: []string{coverLocal},
			Exprs: []ast.Expr{at(&ast.FuncCallExpr{Func: ident(CoverageGlobal, 0), Args: []ast.Expr{number(idx, 0)}}, 0)}}
		return append([]ast.Stmt{prologue}, body...)
	})
}

// instrumenter inserts the counting calls.
type instrumenter struct {
	lines map[int]bool
	max   int
}

// function instruments a function body (or the chunk): the functions
// defined in its expressions, then its own blocks.
func (ins *instrumenter) function(stmts []ast.Stmt) []ast.Stmt {
	walkStmts(stmts, func(e ast.Expr) (ast.Expr, bool) {
		if fn, ok := e.(*ast.FunctionExpr); ok {
			fn.Stmts = ins.function(fn.Stmts)
			return e, false
		}
		return e, true
	})
	return ins.block(stmts)
}

// block puts a counter before each statement starting a line not counted
// yet in this block, and does the same in the blocks nested in statements.
func (ins *instrumenter) block(stmts []ast.Stmt) []ast.Stmt {
	if ins.lines == nil {
		ins.lines = map[int]bool{}
	}
	out := make([]ast.Stmt, 0, 2*len(stmts))
	last := -1
	for _, st := range stmts {
		switch st := st.(type) {
		case *ast.DoBlockStmt:
			st.Stmts = ins.block(st.Stmts)
		case *ast.WhileStmt:
			st.Stmts = ins.block(st.Stmts)
		case *ast.RepeatStmt:
			st.Stmts = ins.block(st.Stmts)
		case *ast.IfStmt:
			st.Then = ins.block(st.Then)
			st.Else = ins.block(st.Else)
		case *ast.NumberForStmt:
			st.Stmts = ins.block(st.Stmts)
		case *ast.GenericForStmt:
			st.Stmts = ins.block(st.Stmts)
		}
		line := st.Line()
		if line > 0 && line != last {
			call := at(&ast.FuncCallExpr{Func: ident(coverLocal, line), Args: []ast.Expr{number(line, line)}}, line)
			cs := &ast.FuncCallStmt{Expr: call}
			cs.SetLine(line)
			cs.SetLastLine(line)
			out = append(out, cs)
			ins.lines[line] = true
			if line > ins.max {
				ins.max = line
			}
			last = line
		}
		out = append(out, st)
	}
	return out
}

// FileCoverage is one file's line hits.
type FileCoverage struct {
	Name string
	Hits []uint64 // by line (index 0 unused)
	Exec []bool   // lines holding a statement
}

// Covered counts the executable lines hit and missed.
func (f *FileCoverage) Covered() (hit, missed int) {
	for l, e := range f.Exec {
		if !e {
			continue
		}
		if f.Hits[l] > 0 {
			hit++
		} else {
			missed++
		}
	}
	return
}

// Files are the hits so far, one entry per file name (the chunks compiled
// for one file, in several hosts, added up), sorted by name.
func (c *Coverage) Files() []*FileCoverage {
	c.mu.Lock()
	units := append([]*coverUnit(nil), c.units...)
	c.mu.Unlock()
	byName := map[string]*FileCoverage{}
	for _, u := range units {
		if u.retired.Load() {
			continue
		}
		f := byName[u.name]
		if f == nil {
			f = &FileCoverage{Name: u.name}
			byName[u.name] = f
		}
		if n := len(u.hits); n > len(f.Hits) {
			f.Hits = append(f.Hits, make([]uint64, n-len(f.Hits))...)
			f.Exec = append(f.Exec, make([]bool, n-len(f.Exec))...)
		}
		for l := range u.hits {
			f.Hits[l] += u.hits[l].Load()
			f.Exec[l] = f.Exec[l] || u.exec[l]
		}
	}
	out := make([]*FileCoverage, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Reset retires every chunk compiled so far: a --watch re-run builds its
// states anew, and only what its chunks count is reported.
func (c *Coverage) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.units {
		u.retired.Store(true)
	}
}

// WriteStats writes files in LuaCov's stats file format
// (luacov.stats.out): per file a "<max line>:<name>" line, then the hits
// of lines 1 to max separated by spaces.
func WriteStats(w io.Writer, files []*FileCoverage) error {
	bw := bufio.NewWriter(w)
	for _, f := range files {
		max := len(f.Hits) - 1
		if max < 0 {
			max = 0
		}
		fmt.Fprintf(bw, "%d:%s\n", max, f.Name)
		for l := 1; l <= max; l++ {
			bw.WriteString(strconv.FormatUint(f.Hits[l], 10))
			bw.WriteByte(' ')
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
