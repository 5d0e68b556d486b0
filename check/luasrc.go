package check

import (
	"bytes"
	"os"
	"strings"

	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// luaFile is a plugin file parsed once for locating findings: the loader
// turns Lua tables into Go values and forgets where each key was written,
// so lines come from the syntax tree.
type luaFile struct {
	Rel    string // path relative to the plugin dir: daos.lua, migrations/000_base.lua
	Path   string
	Src    []byte
	Stmts  []ast.Stmt
	Tables []*luaTable // every table constructor, in source order
}

// luaTable is one table constructor with its string-keyed fields.
type luaTable struct {
	Line   int
	Expr   *ast.TableExpr
	Parent *luaTable
	// ParentKey is the key under which this table sits in Parent ("" when
	// positional or not directly in a constructor).
	ParentKey string
	Keys      []luaKey
}

type luaKey struct {
	Name  string
	Line  int
	Value ast.Expr
}

// parseLua reads and parses a file; nil when it is missing or does not
// parse (the loader reports syntax errors itself).
func parseLua(dir, rel string) *luaFile {
	path := dir + "/" + rel
	src, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(src, []byte("#")) {
		src = append([]byte("--"), src...)
	}
	stmts, err := parse.Parse(bytes.NewReader(src), rel)
	if err != nil {
		return nil
	}
	f := &luaFile{Rel: rel, Path: path, Src: src, Stmts: stmts}
	w := &walker{onExpr: func(e ast.Expr, parent *luaTable, key string) *luaTable {
		te, ok := e.(*ast.TableExpr)
		if !ok {
			return nil
		}
		t := &luaTable{Line: te.Line(), Expr: te, Parent: parent, ParentKey: key}
		for _, fl := range te.Fields {
			if s, ok := fl.Key.(*ast.StringExpr); ok {
				line := s.Line()
				if line == 0 {
					line = fl.Value.Line()
				}
				t.Keys = append(t.Keys, luaKey{Name: s.Value, Line: line, Value: fl.Value})
			}
		}
		f.Tables = append(f.Tables, t)
		return t
	}}
	w.stmts(stmts, nil)
	return f
}

// key returns the field named name of t, if any.
func (t *luaTable) key(name string) (luaKey, bool) {
	for _, k := range t.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return luaKey{}, false
}

// within reports whether t is anc or nested inside it.
func (t *luaTable) within(anc *luaTable) bool {
	for p := t; p != nil; p = p.Parent {
		if p == anc {
			return true
		}
	}
	return false
}

// stringValue returns the value of key name when it is a string literal.
func (t *luaTable) stringValue(name string) (string, bool) {
	k, ok := t.key(name)
	if !ok {
		return "", false
	}
	s, ok := k.Value.(*ast.StringExpr)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// tableWith returns the first table constructor whose key `key` is the
// string literal val (an entity: name = "foo").
func (f *luaFile) tableWith(key, val string) *luaTable {
	if f == nil {
		return nil
	}
	for _, t := range f.Tables {
		if v, ok := t.stringValue(key); ok && v == val {
			return t
		}
	}
	return nil
}

// keyLine returns the line of the first field named name inside scope
// (scope itself or a table nested in it; nil = the whole file), or 0.
func (f *luaFile) keyLine(scope *luaTable, name string) int {
	if f == nil {
		return 0
	}
	for _, t := range f.Tables {
		if scope != nil && !t.within(scope) {
			continue
		}
		if k, ok := t.key(name); ok {
			return k.Line
		}
	}
	return 0
}

// keyPathLine follows a path of keys through nested constructors
// (postgres, up_f) and returns the line of the last one, or of the
// deepest found.
func (f *luaFile) keyPathLine(path ...string) int {
	if f == nil {
		return 0
	}
	var scope *luaTable
	line := 0
	for _, name := range path {
		found := false
		for _, t := range f.Tables {
			if scope != nil && !t.within(scope) {
				continue
			}
			if k, ok := t.key(name); ok {
				line = k.Line
				found = true
				if te, ok := k.Value.(*ast.TableExpr); ok {
					scope = f.tableOf(te)
				}
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

func (f *luaFile) tableOf(te *ast.TableExpr) *luaTable {
	for _, t := range f.Tables {
		if t.Expr == te {
			return t
		}
	}
	return nil
}

// lineContaining returns the first line holding word, or 0.
func (f *luaFile) lineContaining(word string) int {
	if f == nil {
		return 0
	}
	for i, l := range strings.Split(string(f.Src), "\n") {
		if strings.Contains(l, word) {
			return i + 1
		}
	}
	return 0
}

// lastReturn is the line of the file's top-level return, or 1.
func (f *luaFile) lastReturn() int {
	if f == nil {
		return 0
	}
	for i := len(f.Stmts) - 1; i >= 0; i-- {
		if r, ok := f.Stmts[i].(*ast.ReturnStmt); ok {
			return r.Line()
		}
	}
	return 1
}

// walker visits every statement and expression of a chunk. onExpr may
// return the luaTable an expression opened, which becomes the parent of
// constructors nested in it; onCall sees every call with the function
// it appears in.
type walker struct {
	onExpr func(e ast.Expr, parent *luaTable, key string) *luaTable
	onCall func(c *ast.FuncCallExpr, fn *ast.FunctionExpr)
	onStmt func(s ast.Stmt)
	fn     *ast.FunctionExpr
}

func (w *walker) stmts(ss []ast.Stmt, p *luaTable) {
	for _, s := range ss {
		w.stmt(s, p)
	}
}

func (w *walker) stmt(s ast.Stmt, p *luaTable) {
	if w.onStmt != nil {
		w.onStmt(s)
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		w.exprs(s.Lhs, p)
		w.exprs(s.Rhs, p)
	case *ast.LocalAssignStmt:
		w.exprs(s.Exprs, p)
	case *ast.FuncCallStmt:
		w.expr(s.Expr, p, "")
	case *ast.DoBlockStmt:
		w.stmts(s.Stmts, p)
	case *ast.WhileStmt:
		w.expr(s.Condition, p, "")
		w.stmts(s.Stmts, p)
	case *ast.RepeatStmt:
		w.stmts(s.Stmts, p)
		w.expr(s.Condition, p, "")
	case *ast.IfStmt:
		w.expr(s.Condition, p, "")
		w.stmts(s.Then, p)
		w.stmts(s.Else, p)
	case *ast.NumberForStmt:
		w.expr(s.Init, p, "")
		w.expr(s.Limit, p, "")
		w.expr(s.Step, p, "")
		w.stmts(s.Stmts, p)
	case *ast.GenericForStmt:
		w.exprs(s.Exprs, p)
		w.stmts(s.Stmts, p)
	case *ast.FuncDefStmt:
		w.expr(s.Func, p, "")
	case *ast.ReturnStmt:
		w.exprs(s.Exprs, p)
	}
}

func (w *walker) exprs(es []ast.Expr, p *luaTable) {
	for _, e := range es {
		w.expr(e, p, "")
	}
}

func (w *walker) expr(e ast.Expr, p *luaTable, key string) {
	if e == nil {
		return
	}
	var opened *luaTable
	if w.onExpr != nil {
		opened = w.onExpr(e, p, key)
	}
	if opened != nil {
		p = opened
	}
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		w.expr(e.Object, p, "")
		w.expr(e.Key, p, "")
	case *ast.TableExpr:
		for _, fl := range e.Fields {
			k := ""
			if s, ok := fl.Key.(*ast.StringExpr); ok {
				k = s.Value
			} else {
				w.expr(fl.Key, p, "")
			}
			w.expr(fl.Value, p, k)
		}
	case *ast.FuncCallExpr:
		if w.onCall != nil {
			w.onCall(e, w.fn)
		}
		w.expr(e.Func, p, "")
		w.expr(e.Receiver, p, "")
		w.exprs(e.Args, p)
	case *ast.LogicalOpExpr:
		w.expr(e.Lhs, p, "")
		w.expr(e.Rhs, p, "")
	case *ast.RelationalOpExpr:
		w.expr(e.Lhs, p, "")
		w.expr(e.Rhs, p, "")
	case *ast.StringConcatOpExpr:
		w.expr(e.Lhs, p, "")
		w.expr(e.Rhs, p, "")
	case *ast.ArithmeticOpExpr:
		w.expr(e.Lhs, p, "")
		w.expr(e.Rhs, p, "")
	case *ast.UnaryMinusOpExpr:
		w.expr(e.Expr, p, "")
	case *ast.UnaryNotOpExpr:
		w.expr(e.Expr, p, "")
	case *ast.UnaryLenOpExpr:
		w.expr(e.Expr, p, "")
	case *ast.FunctionExpr:
		saved := w.fn
		w.fn = e
		w.stmts(e.Stmts, p)
		w.fn = saved
	}
}
