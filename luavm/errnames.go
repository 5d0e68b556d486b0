package luavm

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Runtime errors worded as Lua 5.1 (and LuaJIT) word them. gopher-lua says
// "attempt to call a non-function object" where Lua 5.1 says "attempt to
// call global 'foo' (a nil value)", "attempt to index a non-table
// object(nil) with key 'b'" for "attempt to index field 'a' (a nil
// value)", "cannot perform add operation between nil and number" for
// "attempt to perform arithmetic on local 'x' (a nil value)". Plugin
// authors read these in the error log, and Kong's specs match them there.
//
// The protected call's error function (Protector.onError) runs where the
// error was raised, before the stack unwinds: the failing instruction and
// its registers are still there. luaErrorText finds the variable the
// instruction's operand came from as Lua 5.1's ldebug.c does (the local
// active in that register, else the last instruction before it that wrote
// the register: a global, a field, an upvalue or a method), and rewrites
// the message. Nothing of this runs unless an error is raised.

// gopher-lua's messages, after the "chunk:line: " of where they were raised.
const (
	gopherCall  = "attempt to call a non-function object"
	gopherIndex = "attempt to index a non-table object("
	gopherArith = "cannot perform "
	gopherUnm   = "__unm undefined"
	gopherLen   = "__len undefined"
	concatText  = "attempt to concatenate a "
)

// forMessages are gopher-lua's numeric for-loop errors and Lua 5.1's.
var forMessages = [...][2]string{
	{"for statement init must be a number", "'for' initial value must be a number"},
	{"for statement limit must be a number", "'for' limit must be a number"},
	{"for statement step must be a number", "'for' step must be a number"},
}

// luaErrorText is obj, the value an error raised in L, with a message of
// gopher-lua's VM reworded as Lua 5.1's; any other value as it is. level
// is the frame that raised it, counted from L's current frame (the error
// function's own frame is 0).
func luaErrorText(L *lua.LState, obj lua.LValue, level int) lua.LValue {
	s, ok := obj.(lua.LString)
	if !ok {
		return obj
	}
	msg := string(s)
	if out, ok := compareText(msg); ok {
		return lua.LString(out)
	}
	fn, pc, frameBase, ok := runningLua(L, level)
	if !ok {
		return obj
	}
	p := fn.Proto
	line := 0
	if pc < len(p.DbgSourcePositions) {
		line = p.DbgSourcePositions[pc]
	}
	prefix := p.SourceName + ":" + strconv.Itoa(line) + ": "
	if !strings.HasPrefix(msg, prefix) {
		return obj
	}
	n := namer{L: L, fn: fn, pc: pc, base: frameBase}
	if text := n.reword(msg[len(prefix):]); text != "" {
		return lua.LString(prefix + text)
	}
	return obj
}

// compareText is Lua 5.1's "attempt to compare two T values" for
// gopher-lua's "attempt to compare T with T" (two different types are
// worded alike).
func compareText(msg string) (string, bool) {
	const head = "attempt to compare "
	i := strings.LastIndex(msg, head)
	if i < 0 {
		return "", false
	}
	lhs, rhs, ok := strings.Cut(msg[i+len(head):], " with ")
	if !ok || lhs != rhs || strings.ContainsAny(lhs, " ") {
		return "", false
	}
	return msg[:i] + head + "two " + lhs + " values", true
}

// namer names the operands of the instruction at pc of fn, which L is
// running with its registers from base.
type namer struct {
	L    *lua.LState
	fn   *lua.LFunction
	pc   int
	base int
}

// Instruction fields (gopher-lua's layout, Lua 5.1's: opcode 6 bits, A 8,
// C 9, B 9; Bx 18).
func opOf(i uint32) int  { return int(i >> 26) }
func argA(i uint32) int  { return int(i>>18) & 0xff }
func argB(i uint32) int  { return int(i & 0x1ff) }
func argC(i uint32) int  { return int(i>>9) & 0x1ff }
func argBx(i uint32) int { return int(i & 0x3ffff) }
func argSBx(i uint32) int {
	const maxArgSBx = (1<<18 - 1) >> 1
	return argBx(i) - maxArgSBx
}

// rkConst is the bit of a B or C operand that names a constant.
const rkConst = 1 << 8

// reword is Lua 5.1's text for gopher-lua's message text (without its
// position), or "" to keep gopher-lua's.
func (n namer) reword(text string) string {
	inst := n.fn.Proto.Code[n.pc]
	op := opOf(inst)
	a, b, c := argA(inst), argB(inst), argC(inst)
	switch {
	case op == lua.OP_FORPREP || op == lua.OP_FORLOOP:
		for _, m := range forMessages {
			if text == m[0] {
				return m[1]
			}
		}
	case text == gopherCall:
		switch op {
		case lua.OP_CALL, lua.OP_TAILCALL:
			return n.typeError(a, "call")
		case lua.OP_TFORLOOP:
			return "attempt to call a " + n.reg(a).Type().String() + " value"
		}
	case strings.HasPrefix(text, gopherIndex):
		typ, _, ok := strings.Cut(text[len(gopherIndex):], ")")
		if !ok {
			return ""
		}
		r := -1
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			r = b
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			r = a
		}
		// the register itself, not a value its __index chain led to
		if v := n.reg(r); r >= 0 && v.Type().String() == typ && v.Type() != lua.LTTable {
			return n.typeError(r, "index")
		}
		return "attempt to index a " + typ + " value"
	case strings.HasPrefix(text, gopherArith):
		switch op {
		case lua.OP_ADD, lua.OP_SUB, lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW:
			// Lua 5.1 names the first operand that is no number
			bad := b
			if isNumeric(n.rk(b)) {
				bad = c
			}
			if bad&rkConst != 0 {
				return "attempt to perform arithmetic on a " + n.rk(bad).Type().String() + " value"
			}
			return n.typeError(bad, "perform arithmetic on")
		}
	case text == gopherUnm && op == lua.OP_UNM:
		return n.typeError(b, "perform arithmetic on")
	case text == gopherLen && op == lua.OP_LEN:
		return n.typeError(b, "get length of")
	case strings.HasPrefix(text, concatText) && op == lua.OP_CONCAT:
		typ := strings.TrimSuffix(text[len(concatText):], " value")
		if r := n.concatCulprit(b, c); r >= 0 && n.reg(r).Type().String() == typ {
			return n.typeError(r, "concatenate")
		}
	}
	return ""
}

// reg is register r's value (nil outside the frame).
func (n namer) reg(r int) lua.LValue {
	arr := regArray(n.L)
	if r < 0 || n.base+r >= len(arr) || n.base+r >= regTop(n.L) {
		return lua.LNil
	}
	if v := arr[n.base+r]; v != nil {
		return v
	}
	return lua.LNil
}

// rk is an RK operand's value: a constant or a register.
func (n namer) rk(x int) lua.LValue {
	if x&rkConst != 0 {
		k := n.fn.Proto.Constants
		if i := x &^ rkConst; i < len(k) {
			return k[i]
		}
		return lua.LNil
	}
	return n.reg(x)
}

// isNumeric: a number, or a string arithmetic converts to one.
func isNumeric(v lua.LValue) bool {
	_, ok := toNumber(v)
	return ok
}

// concatCulprit is the register of R(first) .. ... .. R(last) that Lua 5.1
// reports: from the right, runs of strings and numbers join, and the first
// pair with another value names its left operand unless that one is a
// string or number. -1 when a __concat handler is in play (the registers
// no longer tell which value failed).
func (n namer) concatCulprit(first, last int) int {
	for last > first {
		lhs, rhs := n.reg(last-1), n.reg(last)
		if !isStringOrNumber(lhs) || !isStringOrNumber(rhs) {
			if n.L.GetMetaField(lhs, "__concat") != lua.LNil || n.L.GetMetaField(rhs, "__concat") != lua.LNil {
				return -1
			}
			if isStringOrNumber(lhs) {
				return last
			}
			return last - 1
		}
		last--
		for last > first && isStringOrNumber(n.reg(last-1)) {
			last--
		}
	}
	return -1
}

// typeError is Lua 5.1's luaG_typeerror text for register r.
func (n namer) typeError(r int, op string) string {
	typ := n.reg(r).Type().String()
	if kind, name := n.objName(r, 0); kind != "" {
		return "attempt to " + op + " " + kind + " '" + name + "' (a " + typ + " value)"
	}
	return "attempt to " + op + " a " + typ + " value"
}

// objName is Lua 5.1's getobjname: what register r holds at pc, as
// "local", "global", "field", "upvalue" or "method" and a name; "" when
// it cannot tell.
func (n namer) objName(r, depth int) (kind, name string) {
	p := n.fn.Proto
	if name, ok := localName(p, r, n.pc); ok {
		return "local", name
	}
	i, ok := lastWrite(p, n.pc, r)
	if !ok {
		return "", ""
	}
	switch opOf(i) {
	case lua.OP_GETGLOBAL:
		if k, ok := constant(p, argBx(i)).(lua.LString); ok {
			return "global", string(k)
		}
	case lua.OP_MOVE:
		if b := argB(i); b < argA(i) && depth < 8 {
			return n.objName(b, depth+1)
		}
	case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
		return "field", constName(p, argC(i))
	case lua.OP_GETUPVAL:
		if b := argB(i); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
		return "upvalue", "?"
	case lua.OP_SELF:
		return "method", constName(p, argC(i))
	}
	return "", ""
}

// localName is the local variable in register r at pc, as Lua 5.1's
// luaF_getlocalname finds it: the r-th of the locals active there, in
// order (a local is active from its StartPc on, before its EndPc).
// gopher-lua's LFunction.LocalName counts from StartPc exclusive, which
// misses a local at its first instruction.
func localName(p *lua.FunctionProto, r, pc int) (string, bool) {
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc < l.EndPc {
			if r == 0 {
				return l.Name, true
			}
			r--
		}
	}
	return "", false
}

func constant(p *lua.FunctionProto, i int) lua.LValue {
	if i < 0 || i >= len(p.Constants) {
		return lua.LNil
	}
	return p.Constants[i]
}

// constName is Lua 5.1's kname: a constant string operand, else "?".
func constName(p *lua.FunctionProto, x int) string {
	if x&rkConst != 0 {
		if k, ok := constant(p, x&^rkConst).(lua.LString); ok {
			return string(k)
		}
	}
	return "?"
}

// lastWrite is Lua 5.1's symbexec for one register: the last instruction
// before lastpc that wrote reg, following the forward jumps that do not
// pass lastpc. ok is false when none did.
func lastWrite(p *lua.FunctionProto, lastpc, reg int) (inst uint32, ok bool) {
	code := p.Code
	last := -1
	for pc := 0; pc < lastpc && pc < len(code); pc++ {
		i := code[pc]
		op, a := opOf(i), argA(i)
		switch op {
		case lua.OP_LOADNIL:
			if a <= reg && reg <= argB(i) {
				last = pc
			}
		case lua.OP_CALL, lua.OP_TAILCALL:
			if reg >= a {
				last = pc
			}
		case lua.OP_TFORLOOP:
			if reg >= a+2 {
				last = pc
			}
		case lua.OP_JMP:
			if dest := pc + 1 + argSBx(i); pc < dest && dest <= lastpc {
				pc += argSBx(i)
			}
		case lua.OP_CLOSURE:
			if a == reg {
				last = pc
			}
			// the MOVE/GETUPVAL lines after it pass upvalues, not values
			if bx := argBx(i); bx < len(p.FunctionPrototypes) {
				pc += int(p.FunctionPrototypes[bx].NumUpvalues)
			}
		case lua.OP_SETLIST:
			if argC(i) == 0 {
				pc++ // the next word is the batch number
			}
		case lua.OP_SELF:
			if a == reg || a+1 == reg {
				last = pc
			}
		case lua.OP_MOVE, lua.OP_MOVEN, lua.OP_LOADK, lua.OP_LOADBOOL, lua.OP_GETUPVAL,
			lua.OP_GETGLOBAL, lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_NEWTABLE,
			lua.OP_ADD, lua.OP_SUB, lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW,
			lua.OP_UNM, lua.OP_NOT, lua.OP_LEN, lua.OP_CONCAT, lua.OP_TESTSET,
			lua.OP_FORLOOP, lua.OP_FORPREP, lua.OP_VARARG:
			if a == reg {
				last = pc
			}
		}
	}
	if last < 0 {
		return 0, false
	}
	return code[last], true
}
