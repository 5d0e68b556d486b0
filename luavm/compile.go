package luavm

import (
	"bytes"
	"strconv"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/luahost/luahost/luavm/syntax"
)

// Compile parses and compiles one chunk of Lua 5.1 source named chunk (the
// name errors and debug information carry: "kong/plugins/x/handler.lua").
// A leading UTF-8 byte order mark is skipped and a first line starting with
// '#' is ignored, as LuaJIT and lua.c do. Concatenations are compiled to
// a call of luavm's concat, which formats numbers as Lua 5.1 does
// (gopher-lua's own OP_CONCAT formats them with Go's %v).
func Compile(chunk string, src []byte) (*lua.FunctionProto, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(src, []byte("#")) {
		// keep the line count: comment the first line out
		src = append([]byte("--"), src...)
	}
	stmts, err := parse.Parse(bytes.NewReader(src), chunk)
	if err != nil {
		se := &SyntaxError{Chunk: chunk, Err: err}
		// report the error as Lua 5.1 does; should the checker find none,
		// gopher-lua's message is all there is
		if e := syntax.Check(src, chunk); e != nil {
			se.Line, se.Msg = e.Line, e.Msg
		}
		return nil, se
	}
	rewriteStmts(stmts)
	proto, err := lua.Compile(stmts, chunk)
	if err != nil {
		return nil, err
	}
	patchConstants(proto)
	return proto, nil
}

// SyntaxError is a Lua parse error, carrying the chunk name. Line and Msg
// are the error as PUC Lua 5.1 reports it ("'=' expected near 'x'"), and
// Error() is then "chunk:line: msg", as luac5.1 and loadstring say; when
// the Lua 5.1 checker (luavm/syntax) finds no error where gopher-lua's
// parser does, Line is 0 and Error() is gopher-lua's message.
type SyntaxError struct {
	Chunk string
	Line  int
	Msg   string
	Err   error // gopher-lua's parse error
}

func (e *SyntaxError) Error() string {
	if e.Msg != "" {
		return e.Chunk + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.Err.Error()
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// concatMarker is the string constant the rewrite puts where luavm's concat
// function goes; patchConstants swaps it for the function (a proto's
// constants are loaded with LOADK whatever their type).
const concatMarker = "\x00luavm:concat\x00"

// rewriteStmts replaces every `a .. b .. c` with concat(a, b, c).
func rewriteStmts(stmts []ast.Stmt) {
	for _, s := range stmts {
		rewriteStmt(s)
	}
}

func rewriteStmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		rewriteExprs(s.Lhs)
		rewriteExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		rewriteExprs(s.Exprs)
	case *ast.FuncCallStmt:
		s.Expr = rewriteExpr(s.Expr)
	case *ast.DoBlockStmt:
		rewriteStmts(s.Stmts)
	case *ast.WhileStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteStmts(s.Stmts)
	case *ast.RepeatStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteStmts(s.Stmts)
	case *ast.IfStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteStmts(s.Then)
		rewriteStmts(s.Else)
	case *ast.NumberForStmt:
		s.Init = rewriteExpr(s.Init)
		s.Limit = rewriteExpr(s.Limit)
		if s.Step != nil {
			s.Step = rewriteExpr(s.Step)
		}
		rewriteStmts(s.Stmts)
	case *ast.GenericForStmt:
		rewriteExprs(s.Exprs)
		rewriteStmts(s.Stmts)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			if s.Name.Func != nil {
				s.Name.Func = rewriteExpr(s.Name.Func)
			}
			if s.Name.Receiver != nil {
				s.Name.Receiver = rewriteExpr(s.Name.Receiver)
			}
		}
		rewriteExpr(s.Func)
	case *ast.ReturnStmt:
		rewriteExprs(s.Exprs)
	}
}

func rewriteExprs(es []ast.Expr) {
	for i, e := range es {
		es[i] = rewriteExpr(e)
	}
}

func rewriteExpr(e ast.Expr) ast.Expr {
	switch e := e.(type) {
	case *ast.StringConcatOpExpr:
		ops := concatOperands(e)
		allStrings := true
		for _, op := range ops {
			if _, ok := op.(*ast.StringExpr); !ok {
				allStrings = false
				break
			}
		}
		if allStrings {
			return e // gopher-lua concatenates strings as Lua does
		}
		call := &ast.FuncCallExpr{Func: &ast.StringExpr{Value: concatMarker}, Args: ops, AdjustRet: true}
		call.Func.SetLine(e.Line())
		call.Func.SetLastLine(e.LastLine())
		call.SetLine(e.Line())
		call.SetLastLine(e.LastLine())
		return call
	case *ast.AttrGetExpr:
		e.Object = rewriteExpr(e.Object)
		e.Key = rewriteExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f.Key != nil {
				f.Key = rewriteExpr(f.Key)
			}
			f.Value = rewriteExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		if e.Func != nil {
			e.Func = rewriteExpr(e.Func)
		}
		if e.Receiver != nil {
			e.Receiver = rewriteExpr(e.Receiver)
		}
		rewriteExprs(e.Args)
	case *ast.LogicalOpExpr:
		e.Lhs = rewriteExpr(e.Lhs)
		e.Rhs = rewriteExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		e.Lhs = rewriteExpr(e.Lhs)
		e.Rhs = rewriteExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		e.Lhs = rewriteExpr(e.Lhs)
		e.Rhs = rewriteExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.FunctionExpr:
		rewriteStmts(e.Stmts)
	}
	return e
}

// concatOperands lists the operands of a concat chain, rewritten: `..` is
// right-associative, so a .. b .. c is a .. (b .. c) and gives a, b, c, as
// Lua 5.1 compiles it into one OP_CONCAT. A concat on the left, (a .. b) ..
// c, is an operand of its own: with __concat metamethods the order matters.
func concatOperands(e *ast.StringConcatOpExpr) []ast.Expr {
	var ops []ast.Expr
	var cur ast.Expr = e
	for {
		c, ok := cur.(*ast.StringConcatOpExpr)
		if !ok {
			return append(ops, rewriteExpr(cur))
		}
		ops = append(ops, rewriteExpr(c.Lhs))
		cur = c.Rhs
	}
}

// patchConstants puts the concat function where the rewrite left its
// marker, in proto and every nested prototype.
func patchConstants(p *lua.FunctionProto) {
	for i, k := range p.Constants {
		if s, ok := k.(lua.LString); ok && s == concatMarker {
			p.Constants[i] = concatFn
		}
	}
	for _, c := range p.FunctionPrototypes {
		patchConstants(c)
	}
}
