package luavm

import "github.com/yuin/gopher-lua/ast"

// Loops whose body begins with a jump, run as Lua 5.1 runs them.
//
// gopher-lua's last compile pass (patchCode's "jump to jump optimization")
// follows each JMP into the JMP it lands on, reading that one's operand as
// a label. The passes goes forward, so a backward jump — the loop-back of a
// generic for or of a repeat — lands on a JMP already patched, whose
// operand is by then a distance, not a label: the loop-back goes somewhere
// else. Seen: `for _ in ipairs(t) do if false then ... end n = n + 1 end`
// ran its body once and then clobbered registers, and a loop whose body is
// only `break` nested in another looped forever (`luahost test` hung on a
// spec whose `if` had been edited to `if false then`).
//
// A block begins with a JMP when its first statement is a break, or an if
// or while whose condition a constant decides (false, nil, a number or a
// string, `not true`, `nil and x`, `1 or x` ...: gopher-lua compiles those
// to a bare jump). So, on the final tree:
//   - such conditions are folded: an if becomes the branch it always takes
//     (a do block, so its locals keep their scope), a while never entered
//     goes, a while always entered gets `true` (compiled to no instruction);
//   - a break that begins a loop's body (or a do block beginning one) gets
//     a `local (break)` before it (a LOADNIL, run only on the way out), so
//     the loop-back lands on no JMP (gopher-lua compiles `if true then`
//     to nothing, and `while true do` too: a while's loop-back then lands
//     on its body).
//
// The folded branches never ran: nothing a program can see changes but the
// bug. Numeric for loops (FORPREP/FORLOOP are not patched) are not
// affected.
func fixJumps(stmts []ast.Stmt) []ast.Stmt {
	walkStmts(stmts, func(e ast.Expr) (ast.Expr, bool) {
		if fn, ok := e.(*ast.FunctionExpr); ok {
			fn.Stmts = fixJumps(fn.Stmts)
			return e, false
		}
		return e, true
	})
	return jumpBlock(stmts)
}

// jumpBlock folds the constant conditions of a block and of the blocks
// nested in it, and guards the loop bodies (function bodies are done by
// fixJumps).
func jumpBlock(stmts []ast.Stmt) []ast.Stmt {
	for i, st := range stmts {
		switch st := st.(type) {
		case *ast.IfStmt:
			st.Condition = foldCondition(st.Condition)
			st.Then = jumpBlock(st.Then)
			st.Else = jumpBlock(st.Else)
			if truth, ok := constTruth(st.Condition); ok {
				branch := st.Else
				if truth {
					branch = st.Then
				}
				stmts[i] = doBlock(branch, st)
			}
		case *ast.WhileStmt:
			st.Condition = foldCondition(st.Condition)
			st.Stmts = guardBreak(jumpBlock(st.Stmts))
			if truth, ok := constTruth(st.Condition); ok {
				if !truth {
					stmts[i] = doBlock(nil, st)
				} else if _, isTrue := st.Condition.(*ast.TrueExpr); !isTrue {
					st.Condition = at(&ast.TrueExpr{}, st.Condition.Line())
				}
			}
		case *ast.RepeatStmt:
			st.Stmts = guardBreak(jumpBlock(st.Stmts))
			st.Condition = foldCondition(st.Condition)
		case *ast.GenericForStmt:
			st.Stmts = guardBreak(jumpBlock(st.Stmts))
		case *ast.NumberForStmt:
			st.Stmts = jumpBlock(st.Stmts)
		case *ast.DoBlockStmt:
			st.Stmts = jumpBlock(st.Stmts)
		}
	}
	return stmts
}

// guardBreak puts an instruction before a break beginning a loop body
// (directly or in leading do blocks): `local (break)`, a LOADNIL.
func guardBreak(stmts []ast.Stmt) []ast.Stmt {
	if len(stmts) == 0 {
		return stmts
	}
	switch st := stmts[0].(type) {
	case *ast.BreakStmt:
		// a LOADNIL, run only on the way out; the name cannot clash
		guard := &ast.LocalAssignStmt{Names: []string{"(break)"}}
		guard.SetLine(st.Line())
		guard.SetLastLine(st.Line())
		return append([]ast.Stmt{guard}, stmts...)
	case *ast.DoBlockStmt:
		st.Stmts = guardBreak(st.Stmts)
	}
	return stmts
}

// doBlock is a do block of stmts in place of the statement was.
func doBlock(stmts []ast.Stmt, was ast.Stmt) *ast.DoBlockStmt {
	d := &ast.DoBlockStmt{Stmts: stmts}
	d.SetLine(was.Line())
	d.SetLastLine(was.LastLine())
	return d
}

// foldCondition simplifies a condition (only its truth matters) where a
// constant decides a part of it without evaluating what follows, as the
// run time would: `not <const>`, `<falsy const> and x`, `<truthy const>
// or x`; `<truthy const> and x` and `<falsy const> or x` are x. What is
// left has no constant at its head unless it is one.
func foldCondition(e ast.Expr) ast.Expr {
	switch ex := e.(type) {
	case *ast.UnaryNotOpExpr:
		ex.Expr = foldCondition(ex.Expr)
		if truth, ok := constTruth(ex.Expr); ok {
			if truth {
				return at(&ast.FalseExpr{}, ex.Line())
			}
			return at(&ast.TrueExpr{}, ex.Line())
		}
	case *ast.LogicalOpExpr:
		ex.Lhs = foldCondition(ex.Lhs)
		if truth, ok := constTruth(ex.Lhs); ok {
			switch {
			case ex.Operator == "and" && !truth, ex.Operator == "or" && truth:
				return ex.Lhs
			default:
				return foldCondition(ex.Rhs)
			}
		}
		ex.Rhs = foldCondition(ex.Rhs)
	}
	return e
}

// constTruth is the truth of a constant expression; ok is false for any
// other.
func constTruth(e ast.Expr) (truth, ok bool) {
	switch e.(type) {
	case *ast.TrueExpr, *ast.NumberExpr, *ast.StringExpr:
		return true, true
	case *ast.FalseExpr, *ast.NilExpr:
		return false, true
	}
	return false, false
}
