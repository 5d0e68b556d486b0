package luavm

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// Splitting functions with very many constants, before gopher-lua compiles
// them.
//
// gopher-lua's compiler looks every constant up linearly in its function's
// constant table, so a function with n distinct constants compiles in time
// proportional to n²: a 600 KB data file (one table constructor) took 11 to
// 54 s. Its SETLIST also encodes a constructor's 512th block of 50 items
// as C = 0 followed by a zero word, so the items past the 25,550th land at
// negative indices. Lua 5.1 has neither problem.
//
// splitChunk rewrites, in the AST, each function with more than
// splitThreshold distinct constants (and each constructor with more than
// maxPositional positional items) so that no function holds more than about
// splitBudget of them:
//
//   - a large table constructor becomes a call of a wrapper closure that
//     makes the table, then calls helper closures that each fill a slice of
//     its fields, in the constructor's order, and returns it;
//   - a long run of statements becomes calls of closures, each holding a
//     slice of the run.
//
// What Lua can observe stays as it was. Every expression is evaluated once,
// in the same order. The table is filled with the same raw sets in the same
// order (gopher-lua keeps the insertion order of hash keys for next): keyed
// fields are set when met; positional items are set as a SETLIST flush does
// it, after the 50th item of a block or at the end — when a block has a
// keyed field whose key is not a string constant (it could be one of the
// block's indices), its items wait in a second table until the block's end.
// A multi-value last item (f() or ...) gives all its values. Nothing can
// see the table before the constructor ends. Helpers take the variables
// they read as upvalues (shared with the function, as its locals are), the
// enclosing function's ... when they use it, and the function's
// environment. Helpers use names no Lua source can write ("(t)").
//
// Left over, and only in split functions: code inside a helper runs one or
// two call levels deeper (a traceback shows the extra frames; error's
// level ≥ 2 and debug.getinfo count them). Runs of statements that could
// tell the difference are not moved: those that declare locals, return,
// break out of the run, use goto or labels, read or set environments
// (setfenv, getfenv, module, debug), or use arg beside ....
var (
	splitThreshold = 1024 // distinct constants beyond which a function is split
	splitBudget    = 128  // constant occurrences per helper
	splitNames     = 128  // identifiers per helper (a bound on its upvalues: at most 255)
)

// maxPositional is the largest number of positional items gopher-lua
// compiles correctly in one constructor (SETLIST's C fits in 9 bits).
var maxPositional = 511 * lua.FieldsPerFlush

// names no Lua source can write
const (
	splitT = "(t)"
	splitP = "(p)"
	splitR = "(r)"
	splitI = "(i)"
)

// levelNames are the globals through which code can tell the level it
// runs at, or reach the environment of a caller: in a chunk that names one
// (or calls error with a level), nothing is moved into a closure, except to
// correct what gopher-lua miscompiles.
var levelNames = map[string]bool{"setfenv": true, "getfenv": true, "module": true, "debug": true}

// splitChunk rewrites chunk (a vararg function) as above, in place.
func splitChunk(chunk []ast.Stmt) []ast.Stmt {
	s := splitter{
		tainted: namesLevels(chunk),
		helpers: map[*ast.FunctionExpr]bool{},
	}
	chunk, _ = s.function(chunk, true)
	return chunk
}

// info is what the splitter knows of a piece of code (outside the bodies of
// the functions it defines, unless said).
type info struct {
	occ    int  // constant occurrences
	idents int  // identifier occurrences, nested functions included: a bound on the upvalues a helper would take
	vararg bool // uses ...
	arg    bool // names arg (nested functions included)
	ret    bool // return, goto or a label
	brk    bool // a break not inside a loop of its own
}

func (a *info) add(b info) {
	a.occ += b.occ
	a.idents += b.idents
	a.vararg = a.vararg || b.vararg
	a.arg = a.arg || b.arg
	a.ret = a.ret || b.ret
	a.brk = a.brk || b.brk
}

type splitter struct {
	tainted bool                       // the chunk names levelNames
	helpers map[*ast.FunctionExpr]bool // the closures the splitter made
	split   bool                       // the current function is over splitThreshold
	vararg  bool                       // the current function is vararg
	moved   bool                       // code of the current function was moved
}

// function processes one function's body; the info returned is what the
// function's own text shows to the code around it (its names).
func (s *splitter) function(stmts []ast.Stmt, vararg bool) ([]ast.Stmt, info) {
	split, fvararg, moved := s.split, s.vararg, s.moved
	s.vararg = vararg
	c := constCounter{seen: map[string]struct{}{}}
	c.stmts(stmts)
	s.split = len(c.seen) > splitThreshold && !s.tainted
	s.moved = false
	stmts, in := s.block(stmts)
	if s.moved && c.zero != 0 {
		// the function's constants now live in several tables
		z := zeroer{helpers: s.helpers, neg: c.zero < 0}
		z.stmts(stmts)
	}
	s.split, s.vararg, s.moved = split, fvararg, moved
	return stmts, info{idents: in.idents, arg: in.arg}
}

// block processes a list of statements; in a split function a list with
// more than splitBudget constants has its movable runs wrapped in closures.
func (s *splitter) block(stmts []ast.Stmt) ([]ast.Stmt, info) {
	infos := make([]info, len(stmts))
	var total info
	for i, st := range stmts {
		infos[i] = s.stmt(st)
		total.add(infos[i])
	}
	if !s.split || total.occ <= splitBudget {
		return stmts, total
	}
	out := make([]ast.Stmt, 0, len(stmts))
	var all, run info
	var stmtsRun []ast.Stmt
	flush := func() {
		if len(stmtsRun) == 0 {
			return
		}
		if run.occ > 0 {
			out = append(out, s.wrapRun(stmtsRun, run.vararg))
			run.occ = 0
		} else {
			out = append(out, stmtsRun...)
		}
		all.add(run)
		stmtsRun, run = nil, info{}
	}
	for i, st := range stmts {
		in := infos[i]
		if !s.movable(st, in) {
			flush()
			out = append(out, st)
			all.add(in)
			continue
		}
		if len(stmtsRun) > 0 && (run.occ+in.occ > splitBudget || run.idents+in.idents > splitNames) {
			flush()
		}
		stmtsRun = append(stmtsRun, st)
		run.add(in)
	}
	flush()
	return out, all
}

// movable reports whether st can run inside a closure called in its place
// with nothing observable changed.
func (s *splitter) movable(st ast.Stmt, in info) bool {
	if _, ok := st.(*ast.LocalAssignStmt); ok {
		return false
	}
	return !in.ret && !in.brk && s.closable(in)
}

// closable reports whether code described by in can move into a closure.
func (s *splitter) closable(in info) bool {
	if s.tainted {
		return false
	}
	// a vararg function has a local arg (gopher-lua's CompatVarArg); a
	// function that is not cannot use ...: let the compiler say so
	return !in.vararg || s.vararg && !in.arg
}

// wrapRun returns the statement (function(...) run end)(...).
func (s *splitter) wrapRun(run []ast.Stmt, vararg bool) ast.Stmt {
	first, last := run[0], run[len(run)-1]
	fn := s.newFunction(nil, vararg, run, first.Line(), last.LastLine())
	st := &ast.FuncCallStmt{Expr: s.call(fn, nil, vararg, first.Line())}
	st.SetLine(first.Line())
	st.SetLastLine(last.LastLine())
	return st
}

func (s *splitter) call(fn *ast.FunctionExpr, args []ast.Expr, vararg bool, line int) *ast.FuncCallExpr {
	if vararg {
		args = append(args, at(&ast.Comma3Expr{}, line))
	}
	call := &ast.FuncCallExpr{Func: fn, Args: args, AdjustRet: true}
	call.SetLine(line)
	call.SetLastLine(line)
	return call
}

func (s *splitter) newFunction(params []string, vararg bool, stmts []ast.Stmt, line, last int) *ast.FunctionExpr {
	if params == nil {
		params = []string{}
	}
	fn := &ast.FunctionExpr{ParList: &ast.ParList{HasVargs: vararg, Names: params}, Stmts: stmts}
	fn.SetLine(line)
	fn.SetLastLine(last)
	s.helpers[fn] = true
	s.moved = true
	return fn
}

func at[E ast.Expr](e E, line int) E {
	e.SetLine(line)
	e.SetLastLine(line)
	return e
}

func ident(name string, line int) *ast.IdentExpr {
	return at(&ast.IdentExpr{Value: name}, line)
}

func number(n int, line int) *ast.NumberExpr {
	return at(&ast.NumberExpr{Value: strconv.Itoa(n)}, line)
}

func index(obj string, key ast.Expr, line int) *ast.AttrGetExpr {
	return at(&ast.AttrGetExpr{Object: ident(obj, line), Key: key}, line)
}

func assign(lhs, rhs ast.Expr, line int) ast.Stmt {
	st := &ast.AssignStmt{Lhs: []ast.Expr{lhs}, Rhs: []ast.Expr{rhs}}
	st.SetLine(line)
	st.SetLastLine(line)
	return st
}

// stmt processes one statement in place and describes it.
func (s *splitter) stmt(st ast.Stmt) info {
	var in info
	switch st := st.(type) {
	case *ast.AssignStmt:
		s.exprs(st.Lhs, &in)
		s.exprs(st.Rhs, &in)
	case *ast.LocalAssignStmt:
		s.exprs(st.Exprs, &in)
	case *ast.FuncCallStmt:
		st.Expr = s.expr(st.Expr, &in)
	case *ast.DoBlockStmt:
		st.Stmts = s.body(st.Stmts, &in, false)
	case *ast.WhileStmt:
		st.Condition = s.expr(st.Condition, &in)
		st.Stmts = s.body(st.Stmts, &in, true)
	case *ast.RepeatStmt:
		st.Stmts = s.body(st.Stmts, &in, true)
		st.Condition = s.expr(st.Condition, &in)
	case *ast.IfStmt:
		st.Condition = s.expr(st.Condition, &in)
		st.Then = s.body(st.Then, &in, false)
		st.Else = s.body(st.Else, &in, false)
	case *ast.NumberForStmt:
		st.Init = s.expr(st.Init, &in)
		st.Limit = s.expr(st.Limit, &in)
		if st.Step != nil {
			st.Step = s.expr(st.Step, &in)
		} else {
			in.occ++ // the step 1
		}
		st.Stmts = s.body(st.Stmts, &in, true)
	case *ast.GenericForStmt:
		s.exprs(st.Exprs, &in)
		st.Stmts = s.body(st.Stmts, &in, true)
	case *ast.FuncDefStmt:
		st.Name.Func = s.expr(st.Name.Func, &in)
		if st.Name.Receiver != nil {
			st.Name.Receiver = s.expr(st.Name.Receiver, &in)
		}
		if st.Name.Method != "" {
			in.occ++
		}
		s.expr(st.Func, &in)
	case *ast.ReturnStmt:
		s.exprs(st.Exprs, &in)
		in.ret = true
	case *ast.BreakStmt:
		in.brk = true
	case *ast.GotoStmt, *ast.LabelStmt:
		in.ret = true
	}
	return in
}

// body processes a nested block; a loop's own breaks stay inside it.
func (s *splitter) body(stmts []ast.Stmt, in *info, loop bool) []ast.Stmt {
	stmts, b := s.block(stmts)
	if loop {
		b.brk = false
	}
	in.add(b)
	return stmts
}

func (s *splitter) exprs(es []ast.Expr, in *info) {
	for i := range es {
		es[i] = s.expr(es[i], in)
	}
}

// expr processes one expression, returning what replaces it.
func (s *splitter) expr(e ast.Expr, in *info) ast.Expr {
	switch e := e.(type) {
	case *ast.NumberExpr, *ast.StringExpr:
		in.occ++
	case *ast.NilExpr, *ast.TrueExpr, *ast.FalseExpr:
	case *ast.Comma3Expr:
		in.vararg = true
	case *ast.IdentExpr:
		in.occ++ // a global's name is a constant
		in.idents++
		in.arg = in.arg || e.Value == "arg"
	case *ast.AttrGetExpr:
		e.Object = s.expr(e.Object, in)
		e.Key = s.expr(e.Key, in)
	case *ast.TableExpr:
		return s.table(e, in)
	case *ast.FuncCallExpr:
		e.Func = s.expr(e.Func, in)
		if e.Receiver != nil {
			e.Receiver = s.expr(e.Receiver, in)
		}
		if e.Method != "" {
			in.occ++
		}
		s.exprs(e.Args, in)
	case *ast.LogicalOpExpr:
		e.Lhs = s.expr(e.Lhs, in)
		e.Rhs = s.expr(e.Rhs, in)
	case *ast.RelationalOpExpr:
		e.Lhs = s.expr(e.Lhs, in)
		e.Rhs = s.expr(e.Rhs, in)
	case *ast.StringConcatOpExpr:
		e.Lhs = s.expr(e.Lhs, in)
		e.Rhs = s.expr(e.Rhs, in)
	case *ast.ArithmeticOpExpr:
		e.Lhs = s.expr(e.Lhs, in)
		e.Rhs = s.expr(e.Rhs, in)
	case *ast.UnaryMinusOpExpr:
		e.Expr = s.expr(e.Expr, in)
	case *ast.UnaryNotOpExpr:
		e.Expr = s.expr(e.Expr, in)
	case *ast.UnaryLenOpExpr:
		e.Expr = s.expr(e.Expr, in)
	case *ast.FunctionExpr:
		var fn info
		e.Stmts, fn = s.function(e.Stmts, e.ParList.HasVargs)
		in.add(fn)
	}
	return e
}

// table processes a constructor; a large one becomes a call of a wrapper
// closure that builds it.
//
// It also corrects two ways gopher-lua compiles a constructor unlike Lua
// 5.1: a keyed last field whose value is a call or ... ({..., n =
// select("#", ...)}) made its SETLIST store every register up to the top
// (t[2] got n's value); the value is one value anyway, so it is marked so.
// And gopher-lua flushes a full block of 50 items again after each keyed
// field that follows it, from registers the keyed field has reused ({50
// items, x = f()} set t[1] to x): such a constructor is built by the
// wrapper, which sets each block once, as Lua 5.1.
func (s *splitter) table(e *ast.TableExpr, in *info) ast.Expr {
	fields := make([]info, len(e.Fields))
	var all info
	positional := 0
	reflush := false // a keyed field after a full block
	for i, f := range e.Fields {
		if f.Key != nil {
			f.Key = s.expr(f.Key, &fields[i])
			reflush = reflush || positional > 0 && positional%lua.FieldsPerFlush == 0
		} else {
			positional++
			fields[i].occ++ // its index, once split
		}
		f.Value = s.expr(f.Value, &fields[i])
		all.add(fields[i])
	}
	if n := len(e.Fields); n > 0 && e.Fields[n-1].Key != nil {
		switch v := e.Fields[n-1].Value.(type) {
		case *ast.FuncCallExpr:
			v.AdjustRet = true
		case *ast.Comma3Expr:
			v.AdjustRet = true
		}
	}
	// gopher-lua miscompiles these: they are split whenever they can be
	forced := positional > maxPositional || reflush
	if !(forced || s.split && all.occ > splitBudget) || all.vararg && !s.vararg ||
		!forced && !s.closable(all) || all.vararg && all.arg {
		in.add(all)
		return e
	}
	all.occ = 0
	in.add(all)
	return s.splitTable(e, fields, all.vararg)
}

// splitTable builds the wrapper call for a constructor whose fields are
// described by fields.
func (s *splitter) splitTable(e *ast.TableExpr, fields []info, vararg bool) ast.Expr {
	line := e.Line()
	// the blocks of positional items a SETLIST flushes: a block ends after
	// its 50th item, or at the last field
	type block struct {
		first, last int  // field indices
		base        int  // index of the block's first item, minus 1
		safe        bool // only string-constant keys among its keyed fields
	}
	var blocks []block
	cur := block{first: 0, safe: true}
	npos := 0
	for i, f := range e.Fields {
		if f.Key == nil {
			npos++
		} else if _, ok := f.Key.(*ast.StringExpr); !ok {
			cur.safe = false
		}
		if (f.Key == nil && npos%lua.FieldsPerFlush == 0) || i == len(e.Fields)-1 {
			cur.last = i
			blocks = append(blocks, cur)
			cur = block{first: i + 1, base: npos, safe: true}
		}
	}
	usesP := false
	for _, b := range blocks {
		usesP = usesP || !b.safe
	}

	params := []string{splitT}
	if usesP {
		params = append(params, splitP)
	}

	var body []ast.Stmt // the wrapper's
	local := func(name string) {
		st := &ast.LocalAssignStmt{Names: []string{name}, Exprs: []ast.Expr{at(&ast.TableExpr{}, line)}}
		st.SetLine(line)
		st.SetLastLine(line)
		body = append(body, st)
	}
	local(splitT)
	if usesP {
		local(splitP)
	}

	var helper []ast.Stmt
	var helperInfo info
	first := line
	flushHelper := func() {
		if len(helper) == 0 {
			return
		}
		fn := s.newFunction(append([]string(nil), params...), helperInfo.vararg, helper, first, helper[len(helper)-1].LastLine())
		args := make([]ast.Expr, len(params))
		for i, p := range params {
			args[i] = ident(p, first)
		}
		st := &ast.FuncCallStmt{Expr: s.call(fn, args, helperInfo.vararg, first)}
		st.SetLine(first)
		st.SetLastLine(first)
		body = append(body, st)
		helper, helperInfo = nil, info{}
	}

	for _, b := range blocks {
		k := 0 // items of this block so far
		for i := b.first; i <= b.last; i++ {
			f := e.Fields[i]
			fin := fields[i]
			if len(helper) > 0 && (helperInfo.occ+fin.occ > splitBudget || helperInfo.idents+fin.idents > splitNames) {
				flushHelper()
			}
			if len(helper) == 0 {
				first = f.Value.Line()
			}
			helperInfo.add(fin)
			vl := f.Value.Line()
			switch {
			case f.Key != nil:
				// keyed: set when met, as OP_SETTABLE in the constructor
				// (the line of the constructor, where its errors point)
				helper = append(helper, assign(index(splitT, f.Key, line), f.Value, line))
			case i == len(e.Fields)-1 && isMultiValue(f.Value):
				// every value of the last item: (r) = {f()}; copied up to #(r)
				// (a trailing nil sets nothing Lua can see)
				r := &ast.TableExpr{Fields: []*ast.Field{{Value: f.Value}}}
				st := &ast.LocalAssignStmt{Names: []string{splitR}, Exprs: []ast.Expr{at(r, vl)}}
				st.SetLine(vl)
				st.SetLastLine(vl)
				helper = append(helper, st)
			default:
				k++
				if b.safe {
					helper = append(helper, assign(index(splitT, number(b.base+k, vl), vl), f.Value, vl))
				} else {
					helper = append(helper, assign(index(splitP, number(k, vl), vl), f.Value, vl))
				}
			}
		}
		// the block's end: what SETLIST would set now
		last := e.Fields[b.last].Value.Line()
		if !b.safe {
			for j := 1; j <= k; j++ {
				helper = append(helper, assign(index(splitT, number(b.base+j, last), last), index(splitP, number(j, last), last), last))
				helperInfo.occ += 2
			}
		}
		if lf := e.Fields[b.last]; b.last == len(e.Fields)-1 && lf.Key == nil && isMultiValue(lf.Value) {
			var key ast.Expr = ident(splitI, last)
			if b.base+k > 0 {
				key = at(&ast.ArithmeticOpExpr{Operator: "+", Lhs: ident(splitI, last), Rhs: number(b.base+k, last)}, last)
			}
			loop := &ast.NumberForStmt{
				Name:  splitI,
				Init:  number(1, last),
				Limit: at(&ast.UnaryLenOpExpr{Expr: ident(splitR, last)}, last),
				Stmts: []ast.Stmt{assign(index(splitT, key, last), index(splitR, ident(splitI, last), last), last)},
			}
			loop.SetLine(last)
			loop.SetLastLine(last)
			helper = append(helper, loop)
		}
	}
	flushHelper()

	ret := &ast.ReturnStmt{Exprs: []ast.Expr{ident(splitT, e.LastLine())}}
	ret.SetLine(e.LastLine())
	ret.SetLastLine(e.LastLine())
	body = append(body, ret)
	wrapper := s.newFunction(nil, vararg, body, line, e.LastLine())
	return s.call(wrapper, nil, vararg, line)
}

// isMultiValue reports whether e, as a constructor's last item, gives all
// its values (gopher-lua's isVarArgReturnExpr).
func isMultiValue(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.FuncCallExpr:
		return !e.AdjustRet
	case *ast.Comma3Expr:
		return !e.AdjustRet
	}
	return false
}

// constCounter counts the distinct constants of one function (not of the
// functions it defines), up to splitThreshold+1, and notes the sign of its
// first constant zero: gopher-lua (as Lua 5.1) keeps one constant for 0 and
// -0, the first met, so every zero of a function has that sign.
type constCounter struct {
	seen map[string]struct{}
	zero int // 0: none yet, 1: +0, -1: -0
}

func (c *constCounter) stmts(stmts []ast.Stmt) {
	walkStmts(stmts, c.visit)
}

func (c *constCounter) add(kind, v string) {
	if len(c.seen) <= splitThreshold {
		c.seen[kind+v] = struct{}{}
	}
}

func (c *constCounter) visit(e ast.Expr) (ast.Expr, bool) {
	if v, ok := foldNumber(e); ok {
		if v == 0 && c.zero == 0 {
			c.zero = 1
			if math.Signbit(v) {
				c.zero = -1
			}
		}
		c.add("n", strconv.FormatFloat(v, 'g', -1, 64))
		return e, false
	}
	switch e := e.(type) {
	case *ast.StringExpr:
		c.add("s", e.Value)
	case *ast.IdentExpr:
		c.add("s", e.Value)
	case *ast.FuncCallExpr:
		c.add("s", e.Method)
	case *ast.FunctionExpr:
		return e, false
	}
	return e, true
}

// foldNumber returns the number e is, when gopher-lua's compiler folds it
// into a constant (a numeral, or arithmetic and unary minus on numerals),
// with its arithmetic.
func foldNumber(e ast.Expr) (float64, bool) {
	switch e := e.(type) {
	case *ast.NumberExpr:
		if v, err := strconv.ParseInt(strings.TrimSpace(e.Value), 0, 64); err == nil {
			return float64(v), true
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(e.Value), 64); err == nil {
			return v, true
		}
		return math.NaN(), true
	case *ast.UnaryMinusOpExpr:
		if v, ok := foldNumber(e.Expr); ok {
			return -v, true
		}
	case *ast.ArithmeticOpExpr:
		l, lok := foldNumber(e.Lhs)
		r, rok := foldNumber(e.Rhs)
		if !lok || !rok {
			return 0, false
		}
		switch e.Operator {
		case "+":
			return l + r, true
		case "-":
			return l - r, true
		case "*":
			return l * r, true
		case "/":
			return l / r, true
		case "%":
			m := math.Mod(l, r)
			if r > 0 && m < 0 || r < 0 && m > 0 {
				m += r
			}
			return m, true
		case "^":
			return math.Pow(l, r), true
		}
	}
	return 0, false
}

// zeroer gives every constant zero of a split function (helpers included,
// not the functions it defines) the sign its first one had.
type zeroer struct {
	helpers map[*ast.FunctionExpr]bool
	neg     bool
}

func (z *zeroer) stmts(stmts []ast.Stmt) { walkStmts(stmts, z.visit) }

func (z *zeroer) visit(e ast.Expr) (ast.Expr, bool) {
	if v, ok := foldNumber(e); ok {
		if v == 0 && math.Signbit(v) != z.neg {
			var zero ast.Expr = at(&ast.NumberExpr{Value: "0"}, e.Line())
			if z.neg {
				zero = at(&ast.UnaryMinusOpExpr{Expr: zero}, e.Line())
			}
			return zero, false
		}
		return e, false
	}
	if fn, ok := e.(*ast.FunctionExpr); ok {
		return e, z.helpers[fn]
	}
	return e, true
}

// namesLevels reports whether the chunk names one of levelNames, or calls
// error with a level (or uses error other than by calling it), anywhere.
func namesLevels(stmts []ast.Stmt) bool {
	found := false
	walkStmts(stmts, func(e ast.Expr) (ast.Expr, bool) {
		switch e := e.(type) {
		case *ast.IdentExpr:
			found = found || levelNames[e.Value] || e.Value == "error"
		case *ast.FuncCallExpr:
			if id, ok := e.Func.(*ast.IdentExpr); ok && id.Value == "error" && e.Receiver == nil && len(e.Args) <= 1 {
				// error(msg): its position is the caller's line, in
				// whichever closure
				for i := range e.Args {
					e.Args[i] = walkExpr(e.Args[i], func(e ast.Expr) (ast.Expr, bool) {
						if id, ok := e.(*ast.IdentExpr); ok {
							found = found || levelNames[id.Value] || id.Value == "error"
						}
						return e, true
					})
				}
				return e, false
			}
		}
		return e, !found
	})
	return found
}

// walkStmts calls visit on every expression of stmts, in the order
// gopher-lua compiles them; visit returns the expression to put in its
// place and whether to walk into it (into a function's body too).
func walkStmts(stmts []ast.Stmt, visit func(ast.Expr) (ast.Expr, bool)) {
	exprs := func(es []ast.Expr) {
		for i := range es {
			es[i] = walkExpr(es[i], visit)
		}
	}
	for _, st := range stmts {
		switch st := st.(type) {
		case *ast.AssignStmt:
			exprs(st.Lhs)
			exprs(st.Rhs)
		case *ast.LocalAssignStmt:
			exprs(st.Exprs)
		case *ast.FuncCallStmt:
			st.Expr = walkExpr(st.Expr, visit)
		case *ast.DoBlockStmt:
			walkStmts(st.Stmts, visit)
		case *ast.WhileStmt:
			st.Condition = walkExpr(st.Condition, visit)
			walkStmts(st.Stmts, visit)
		case *ast.RepeatStmt:
			walkStmts(st.Stmts, visit)
			st.Condition = walkExpr(st.Condition, visit)
		case *ast.IfStmt:
			st.Condition = walkExpr(st.Condition, visit)
			walkStmts(st.Then, visit)
			walkStmts(st.Else, visit)
		case *ast.NumberForStmt:
			st.Init = walkExpr(st.Init, visit)
			st.Limit = walkExpr(st.Limit, visit)
			if st.Step != nil {
				st.Step = walkExpr(st.Step, visit)
			}
			walkStmts(st.Stmts, visit)
		case *ast.GenericForStmt:
			exprs(st.Exprs)
			walkStmts(st.Stmts, visit)
		case *ast.FuncDefStmt:
			st.Name.Func = walkExpr(st.Name.Func, visit)
			if st.Name.Receiver != nil {
				st.Name.Receiver = walkExpr(st.Name.Receiver, visit)
			}
			if st.Name.Method != "" {
				visit(at(&ast.StringExpr{Value: st.Name.Method}, st.Line()))
			}
			walkExpr(st.Func, visit)
		case *ast.ReturnStmt:
			exprs(st.Exprs)
		}
	}
}

func walkExpr(e ast.Expr, visit func(ast.Expr) (ast.Expr, bool)) ast.Expr {
	e, in := visit(e)
	if !in {
		return e
	}
	w := func(e ast.Expr) ast.Expr { return walkExpr(e, visit) }
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		e.Object = w(e.Object)
		e.Key = w(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f.Key != nil {
				f.Key = w(f.Key)
			}
			f.Value = w(f.Value)
		}
	case *ast.FuncCallExpr:
		e.Func = w(e.Func)
		if e.Receiver != nil {
			e.Receiver = w(e.Receiver)
		}
		for i := range e.Args {
			e.Args[i] = w(e.Args[i])
		}
	case *ast.LogicalOpExpr:
		e.Lhs = w(e.Lhs)
		e.Rhs = w(e.Rhs)
	case *ast.RelationalOpExpr:
		e.Lhs = w(e.Lhs)
		e.Rhs = w(e.Rhs)
	case *ast.StringConcatOpExpr:
		e.Lhs = w(e.Lhs)
		e.Rhs = w(e.Rhs)
	case *ast.ArithmeticOpExpr:
		e.Lhs = w(e.Lhs)
		e.Rhs = w(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		e.Expr = w(e.Expr)
	case *ast.UnaryNotOpExpr:
		e.Expr = w(e.Expr)
	case *ast.UnaryLenOpExpr:
		e.Expr = w(e.Expr)
	case *ast.FunctionExpr:
		walkStmts(e.Stmts, visit)
	}
	return e
}
