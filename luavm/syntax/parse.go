package syntax

import (
	"fmt"
	"strconv"
)

// Limits of PUC Lua 5.1 (luaconf.h), which LuaJIT shares.
const (
	maxLevels   = 200 // LUAI_MAXCCALLS: nesting of blocks and expressions
	maxLocals   = 200 // LUAI_MAXVARS: active local variables per function
	maxUpvalues = 60  // LUAI_MAXUPVALUES
	// baseLevel is the C call depth at which luac 5.1 starts parsing.
	baseLevel = 1
)

type localVar struct{ name string }

type block struct {
	loop    bool
	nactive int // locals active when the block was entered
}

// funcState is a function being checked: its scopes, for the local and
// upvalue limits and for "no loop to break".
type funcState struct {
	parent  *funcState
	line    int // line where it is defined; 0 for the main chunk
	vararg  bool
	actives []*localVar
	byName  map[string][]*localVar
	upvals  map[*localVar]struct{}
	blocks  []block
	pending []*localVar // declared, not yet in scope
}

func (fs *funcState) lookup(name string) *localVar {
	if s := fs.byName[name]; len(s) > 0 {
		return s[len(s)-1]
	}
	return nil
}

type parser struct {
	lx       lexer
	t        token // current token
	ahead    token // look-ahead token, when hasAhead
	hasAhead bool
	lastline int // line where the previous token ended
	level    int
	fs       *funcState
	chain    []*funcState
}

// Check reads src as a Lua chunk and returns its first syntax error as
// PUC Lua 5.1 (luac5.1 -p) reports it, or nil when src parses. chunk is
// the name the error carries, used as is. Code LuaJIT accepts is accepted
// (goto and labels, \z in strings, hex fractions and 64-bit or imaginary
// number suffixes, UTF-8 in names, nested [[ ]]).
//
// Check does not generate code, so limits found by Lua's code generator
// ("function or expression too complex", "constant table overflow") are
// not reported.
func Check(src []byte, chunk string) (res *Error) {
	p := &parser{lx: lexer{src: src, line: 1}, lastline: 1, level: baseLevel}
	// LuaJIT skips a byte order mark; a first line starting with '#' is
	// skipped by luaL_loadfile (its line break is kept).
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		p.lx.pos = 3
	}
	if p.lx.pos < len(src) && src[p.lx.pos] == '#' {
		for p.lx.pos < len(src) && src[p.lx.pos] != '\n' {
			p.lx.pos++
		}
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e.Chunk = chunk
			res = e
		}
	}()
	p.openFunc(0)
	p.fs.vararg = true
	p.next()
	p.chunk()
	p.check(tkEOS)
	return nil
}

// ---- errors

func (p *parser) syntaxError(msg string) {
	if p.t.kind != 0 { // Lua prints no token for a NUL byte
		msg += " near '" + nearText(p.lx.src, p.t) + "'"
	}
	panic(&Error{Line: p.lx.line, Msg: msg})
}

func (p *parser) errorExpected(kind int) {
	p.syntaxError("'" + tokenString(kind) + "' expected")
}

func (p *parser) limitError(fs *funcState, limit int, what string) {
	var msg string
	if fs.line == 0 {
		msg = fmt.Sprintf("main function has more than %d %s", limit, what)
	} else {
		msg = fmt.Sprintf("function at line %d has more than %d %s", fs.line, limit, what)
	}
	panic(&Error{Line: p.lx.line, Msg: msg})
}

// ---- tokens

func (p *parser) next() {
	p.lastline = p.lx.line
	if p.hasAhead {
		p.t, p.hasAhead = p.ahead, false
		return
	}
	p.t = p.lx.next()
}

func (p *parser) lookahead() {
	p.ahead, p.hasAhead = p.lx.next(), true
}

func (p *parser) check(kind int) {
	if p.t.kind != kind {
		p.errorExpected(kind)
	}
}

func (p *parser) checkNext(kind int) {
	p.check(kind)
	p.next()
}

func (p *parser) testNext(kind int) bool {
	if p.t.kind == kind {
		p.next()
		return true
	}
	return false
}

// checkMatch expects what closing who opened at line where.
func (p *parser) checkMatch(what, who, where int) {
	if p.testNext(what) {
		return
	}
	if where == p.lx.line {
		p.errorExpected(what)
	}
	p.syntaxError("'" + tokenString(what) + "' expected (to close '" + tokenString(who) +
		"' at line " + strconv.Itoa(where) + ")")
}

func (p *parser) checkName() string {
	p.check(tkName)
	name := string(p.lx.src[p.t.start:p.t.end])
	p.next()
	return name
}

// probe runs f on a copy of the lexer, reporting false if it fails: a
// look at the tokens ahead that leaves no trace.
func (p *parser) probe(f func(l *lexer) bool) (ok bool) {
	if p.hasAhead {
		return false
	}
	l := p.lx
	defer func() {
		if r := recover(); r != nil {
			if _, isErr := r.(*Error); !isErr {
				panic(r)
			}
			ok = false
		}
	}()
	return f(&l)
}

func blockFollow(kind int) bool {
	switch kind {
	case tkElse, tkElseif, tkEnd, tkUntil, tkEOS:
		return true
	}
	return false
}

// ---- scopes

func (p *parser) enterLevel() {
	p.level++
	if p.level > maxLevels {
		panic(&Error{Line: p.lx.line, Msg: "chunk has too many syntax levels"})
	}
}

func (p *parser) leaveLevel() { p.level-- }

func (p *parser) openFunc(line int) {
	p.fs = &funcState{parent: p.fs, line: line}
}

func (p *parser) closeFunc() { p.fs = p.fs.parent }

func (p *parser) enterBlock(loop bool) {
	fs := p.fs
	fs.blocks = append(fs.blocks, block{loop: loop, nactive: len(fs.actives)})
}

func (p *parser) leaveBlock() {
	fs := p.fs
	b := fs.blocks[len(fs.blocks)-1]
	fs.blocks = fs.blocks[:len(fs.blocks)-1]
	for i := len(fs.actives) - 1; i >= b.nactive; i-- {
		v := fs.actives[i]
		s := fs.byName[v.name]
		fs.byName[v.name] = s[:len(s)-1]
	}
	fs.actives = fs.actives[:b.nactive]
}

// declare adds a local variable that is not in scope yet.
func (p *parser) declare(name string) {
	fs := p.fs
	if len(fs.actives)+len(fs.pending)+1 > maxLocals {
		p.limitError(fs, maxLocals, "local variables")
	}
	fs.pending = append(fs.pending, &localVar{name: name})
}

// activate brings the declared locals into scope.
func (p *parser) activate() {
	fs := p.fs
	if fs.byName == nil && len(fs.pending) > 0 {
		fs.byName = map[string][]*localVar{}
	}
	for _, v := range fs.pending {
		fs.actives = append(fs.actives, v)
		fs.byName[v.name] = append(fs.byName[v.name], v)
	}
	fs.pending = fs.pending[:0]
}

// resolve finds the variable a name refers to, making it an upvalue of
// every function between the one declaring it and the current one.
func (p *parser) resolve(name string) {
	if p.fs.lookup(name) != nil {
		return
	}
	p.chain = p.chain[:0]
	var v *localVar
	for fs := p.fs; fs != nil; fs = fs.parent {
		if v = fs.lookup(name); v != nil {
			break
		}
		p.chain = append(p.chain, fs)
	}
	if v == nil {
		return // a global
	}
	for i := len(p.chain) - 1; i >= 0; i-- {
		fs := p.chain[i]
		if _, ok := fs.upvals[v]; ok {
			continue
		}
		if len(fs.upvals)+1 > maxUpvalues {
			p.limitError(fs, maxUpvalues, "upvalues")
		}
		if fs.upvals == nil {
			fs.upvals = map[*localVar]struct{}{}
		}
		fs.upvals[v] = struct{}{}
	}
}

// ---- statements

func (p *parser) chunk() {
	p.enterLevel()
	for !blockFollow(p.t.kind) {
		last := p.statement()
		p.testNext(';')
		if last {
			break
		}
	}
	p.leaveLevel()
}

func (p *parser) block(loop bool) {
	p.enterBlock(loop)
	p.chunk()
	p.leaveBlock()
}

// statement parses one statement and reports whether it must be the last
// of its block (return, break).
func (p *parser) statement() bool {
	line := p.lx.line
	switch p.t.kind {
	case tkIf:
		p.ifStat(line)
	case tkWhile:
		p.next()
		p.expr()
		p.enterBlock(true)
		p.checkNext(tkDo)
		p.block(false)
		p.checkMatch(tkEnd, tkWhile, line)
		p.leaveBlock()
	case tkDo:
		p.next()
		p.block(false)
		p.checkMatch(tkEnd, tkDo, line)
	case tkFor:
		p.forStat(line)
	case tkRepeat:
		p.next()
		p.enterBlock(true)
		p.enterBlock(false)
		p.chunk()
		p.checkMatch(tkUntil, tkRepeat, line)
		p.expr()
		p.leaveBlock()
		p.leaveBlock()
	case tkFunction:
		p.next()
		p.resolve(p.checkName())
		needSelf := false
		for p.t.kind == '.' {
			p.next()
			p.checkName()
		}
		if p.t.kind == ':' {
			p.next()
			p.checkName()
			needSelf = true
		}
		p.body(needSelf, line)
	case tkLocal:
		p.next()
		if p.testNext(tkFunction) {
			p.declare(p.checkName())
			p.activate()
			p.body(false, p.lx.line)
		} else {
			for {
				p.declare(p.checkName())
				if !p.testNext(',') {
					break
				}
			}
			// declared names come into scope after their initializers
			if p.testNext('=') {
				p.explist()
			}
			p.activate()
		}
	case tkReturn:
		p.next()
		if !blockFollow(p.t.kind) && p.t.kind != ';' {
			p.explist()
		}
		return true
	case tkBreak:
		p.next()
		loop := false
		for _, b := range p.fs.blocks {
			loop = loop || b.loop
		}
		if !loop {
			p.syntaxError("no loop to break")
		}
		return true
	case ':':
		if p.isLabel() { // LuaJIT ::name::
			for range 5 {
				p.next()
			}
			return false
		}
		p.exprStat()
	case tkName:
		if p.isGoto() { // LuaJIT goto name
			p.next()
			p.next()
			return false
		}
		p.exprStat()
	default:
		p.exprStat()
	}
	return false
}

// isGoto tells a LuaJIT goto statement: the name goto followed by a name.
// (In Lua 5.1 goto is an ordinary name.)
func (p *parser) isGoto() bool {
	if string(p.lx.src[p.t.start:p.t.end]) != "goto" {
		return false
	}
	return p.probe(func(l *lexer) bool { return l.next().kind == tkName })
}

// isLabel tells a LuaJIT label, ::name::, at a ':'. (In Lua 5.1 a ':'
// cannot start a statement nor follow an expression but in a method call.)
func (p *parser) isLabel() bool {
	if p.t.end >= len(p.lx.src) || p.lx.src[p.t.end] != ':' {
		return false
	}
	return p.probe(func(l *lexer) bool {
		if l.next().kind != ':' || l.next().kind != tkName || l.next().kind != ':' {
			return false
		}
		c := l.next()
		return c.kind == ':' && l.src[c.start-1] == ':'
	})
}

func (p *parser) ifStat(line int) {
	p.testThenBlock()
	for p.t.kind == tkElseif {
		p.testThenBlock()
	}
	if p.testNext(tkElse) {
		p.block(false)
	}
	p.checkMatch(tkEnd, tkIf, line)
}

func (p *parser) testThenBlock() {
	p.next() // if or elseif
	p.expr()
	p.checkNext(tkThen)
	p.block(false)
}

func (p *parser) forStat(line int) {
	p.enterBlock(true)
	p.next()
	name := p.checkName()
	switch p.t.kind {
	case '=':
		p.declare("(for index)")
		p.declare("(for limit)")
		p.declare("(for step)")
		p.declare(name)
		p.next()
		p.expr()
		p.checkNext(',')
		p.expr()
		if p.testNext(',') {
			p.expr()
		}
		p.forBody(3)
	case ',', tkIn:
		p.declare("(for generator)")
		p.declare("(for state)")
		p.declare("(for control)")
		p.declare(name)
		for p.testNext(',') {
			p.declare(p.checkName())
		}
		p.checkNext(tkIn)
		p.explist()
		p.forBody(3)
	default:
		p.syntaxError("'=' or 'in' expected")
	}
	p.checkMatch(tkEnd, tkFor, line)
	p.leaveBlock()
}

// forBody brings the hidden control variables into scope, then the loop's
// own variables in the loop block.
func (p *parser) forBody(hidden int) {
	fs := p.fs
	vars := append([]*localVar(nil), fs.pending[hidden:]...)
	fs.pending = fs.pending[:hidden]
	p.activate()
	p.checkNext(tkDo)
	p.enterBlock(false)
	fs.pending = append(fs.pending, vars...)
	p.activate()
	p.block(false)
	p.leaveBlock()
}

func (p *parser) exprStat() {
	kind := p.primaryExp()
	if kind == expCall {
		return
	}
	nvars := 1
	for {
		if kind != expVar {
			p.syntaxError("syntax error")
		}
		if !p.testNext(',') {
			break
		}
		kind = p.primaryExp()
		if limit := maxLevels - p.level; nvars > limit {
			p.limitError(p.fs, limit, "variables in assignment")
		}
		nvars++
	}
	p.checkNext('=')
	p.explist()
}

// ---- expressions

// kinds of prefix expressions
const (
	expVar   = iota // a name or an index: assignable
	expCall         // a function or method call
	expParen        // a parenthesized expression
)

func (p *parser) primaryExp() int {
	var kind int
	switch p.t.kind {
	case tkName:
		p.resolve(p.checkName())
		kind = expVar
	case '(':
		line := p.lx.line
		p.next()
		p.expr()
		p.checkMatch(')', '(', line)
		kind = expParen
	default:
		p.syntaxError("unexpected symbol")
	}
	for {
		switch p.t.kind {
		case '.':
			p.next()
			p.checkName()
			kind = expVar
		case '[':
			p.next()
			p.expr()
			p.checkNext(']')
			kind = expVar
		case ':':
			if p.isLabel() { // LuaJIT: the expression ends before ::label::
				return kind
			}
			p.next()
			p.checkName()
			p.funcArgs()
			kind = expCall
		case '(', tkString, '{':
			p.funcArgs()
			kind = expCall
		default:
			return kind
		}
	}
}

func (p *parser) funcArgs() {
	line := p.lx.line
	switch p.t.kind {
	case '(':
		if line != p.lastline {
			p.syntaxError("ambiguous syntax (function call x new statement)")
		}
		p.next()
		if p.t.kind != ')' {
			p.explist()
		}
		p.checkMatch(')', '(', line)
	case '{':
		p.constructor()
	case tkString:
		p.next()
	default:
		p.syntaxError("function arguments expected")
	}
}

func (p *parser) constructor() {
	line := p.lx.line
	p.checkNext('{')
	for p.t.kind != '}' {
		switch p.t.kind {
		case tkName:
			p.lookahead()
			if p.ahead.kind != '=' {
				p.expr()
			} else {
				p.recField()
			}
		case '[':
			p.recField()
		default:
			p.expr()
		}
		if !p.testNext(',') && !p.testNext(';') {
			break
		}
	}
	p.checkMatch('}', '{', line)
}

func (p *parser) recField() {
	if p.t.kind == tkName {
		p.checkName()
	} else {
		p.next() // '['
		p.expr()
		p.checkNext(']')
	}
	p.checkNext('=')
	p.expr()
}

func (p *parser) body(needSelf bool, line int) {
	p.openFunc(line)
	p.checkNext('(')
	if needSelf {
		p.declare("self")
		p.activate()
	}
	if p.t.kind != ')' {
		for {
			switch p.t.kind {
			case tkName:
				p.declare(p.checkName())
			case tkDots:
				p.next()
				p.fs.vararg = true
			default:
				p.syntaxError("<name> or '...' expected")
			}
			if p.fs.vararg || !p.testNext(',') {
				break
			}
		}
	}
	p.activate()
	p.checkNext(')')
	p.chunk()
	p.checkMatch(tkEnd, tkFunction, line)
	p.closeFunc()
}

func (p *parser) explist() {
	p.expr()
	for p.testNext(',') {
		p.expr()
	}
}

func (p *parser) expr() { p.subExpr(0) }

// binary operator priorities (left, right) of Lua 5.1
func binaryPriority(kind int) (left, right int) {
	switch kind {
	case '+', '-':
		return 6, 6
	case '*', '/', '%':
		return 7, 7
	case '^':
		return 10, 9
	case tkConcat:
		return 5, 4
	case tkEq, tkNe, '<', tkLe, '>', tkGe:
		return 3, 3
	case tkAnd:
		return 2, 2
	case tkOr:
		return 1, 1
	}
	return -1, -1
}

const unaryPriority = 8

// subExpr reads an expression whose binary operators bind tighter than
// limit, recursing as Lua 5.1 does so that the nesting limit is the same.
func (p *parser) subExpr(limit int) {
	p.enterLevel()
	switch p.t.kind {
	case tkNot, '-', '#':
		p.next()
		p.subExpr(unaryPriority)
	default:
		p.simpleExp()
	}
	for {
		left, right := binaryPriority(p.t.kind)
		if left <= limit {
			break
		}
		p.next()
		p.subExpr(right)
	}
	p.leaveLevel()
}

func (p *parser) simpleExp() {
	switch p.t.kind {
	case tkNumber, tkString, tkNil, tkTrue, tkFalse:
		p.next()
	case tkDots:
		if !p.fs.vararg {
			p.syntaxError("cannot use '...' outside a vararg function")
		}
		p.next()
	case '{':
		p.constructor()
	case tkFunction:
		p.next()
		p.body(false, p.lx.line)
	default:
		p.primaryExp()
	}
}
