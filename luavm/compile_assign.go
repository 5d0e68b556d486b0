package luavm

import (
	"strconv"

	"github.com/yuin/gopher-lua/ast"
)

// Multiple assignment as Lua 5.1 does it: every expression on the right is
// evaluated before any variable on the left is assigned. gopher-lua assigns
// a local target as soon as its value is computed, so in
//
//	a, b = 10, a
//
// b got the new a (10) where Lua 5.1 gives the old one (also for function
// parameters, and for a later call reading a through a closure). Such a
// statement, when all its targets are names and a later expression reads
// one or calls a function, is rewritten to
//
//	do local (1), (2) = 10, a; a, b = (1), (2) end
//
// which evaluates the right side whole first; the names in parentheses
// cannot clash with a Lua name. Other assignments are left as they are.
func fixAssignments(stmts []ast.Stmt) []ast.Stmt {
	// function bodies anywhere in these statements' expressions
	walkStmts(stmts, func(e ast.Expr) (ast.Expr, bool) {
		if fn, ok := e.(*ast.FunctionExpr); ok {
			fn.Stmts = fixAssignments(fn.Stmts)
			return e, false
		}
		return e, true
	})
	return fixBlock(stmts)
}

// fixBlock rewrites the assignments of a block and of the blocks nested in
// it (function bodies are done by fixAssignments).
func fixBlock(stmts []ast.Stmt) []ast.Stmt {
	for i, st := range stmts {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if readsOwnTargets(st) {
				stmts[i] = evaluateFirst(st)
			}
		case *ast.DoBlockStmt:
			st.Stmts = fixBlock(st.Stmts)
		case *ast.WhileStmt:
			st.Stmts = fixBlock(st.Stmts)
		case *ast.RepeatStmt:
			st.Stmts = fixBlock(st.Stmts)
		case *ast.IfStmt:
			st.Then = fixBlock(st.Then)
			st.Else = fixBlock(st.Else)
		case *ast.NumberForStmt:
			st.Stmts = fixBlock(st.Stmts)
		case *ast.GenericForStmt:
			st.Stmts = fixBlock(st.Stmts)
		}
	}
	return stmts
}

// readsOwnTargets reports an assignment of two or more names whose right
// side, past its first expression, reads one of them or calls a function
// (which may read one through an upvalue): what gopher-lua would evaluate
// after assigning the first names. Nested function bodies see the
// variable, not its value, and do not count.
func readsOwnTargets(st *ast.AssignStmt) bool {
	if len(st.Lhs) < 2 || len(st.Rhs) < 2 {
		return false
	}
	names := make(map[string]bool, len(st.Lhs))
	for _, l := range st.Lhs {
		id, ok := l.(*ast.IdentExpr)
		if !ok {
			return false
		}
		names[id.Value] = true
	}
	found := false
	for _, r := range st.Rhs[1:] {
		walkExpr(r, func(e ast.Expr) (ast.Expr, bool) {
			switch e := e.(type) {
			case *ast.FunctionExpr:
				return e, false
			case *ast.FuncCallExpr:
				found = true
			case *ast.IdentExpr:
				if names[e.Value] {
					found = true
				}
			}
			return e, !found
		})
		if found {
			return true
		}
	}
	return false
}

// evaluateFirst is st with its right side evaluated into fresh locals
// first.
func evaluateFirst(st *ast.AssignStmt) ast.Stmt {
	line := st.Line()
	tmp := make([]string, len(st.Lhs))
	vals := make([]ast.Expr, len(st.Lhs))
	for i := range tmp {
		tmp[i] = "(" + strconv.Itoa(i+1) + ")"
		vals[i] = ident(tmp[i], line)
	}
	local := &ast.LocalAssignStmt{Names: tmp, Exprs: st.Rhs}
	local.SetLine(line)
	local.SetLastLine(st.LastLine())
	set := &ast.AssignStmt{Lhs: st.Lhs, Rhs: vals}
	set.SetLine(line)
	set.SetLastLine(st.LastLine())
	do := &ast.DoBlockStmt{Stmts: []ast.Stmt{local, set}}
	do.SetLine(line)
	do.SetLastLine(st.LastLine())
	return do
}
