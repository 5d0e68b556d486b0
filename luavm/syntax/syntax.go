// Package syntax checks Lua 5.1 source for syntax errors and reports the
// first one as PUC Lua 5.1 does (luac5.1 -p, loadstring): the same line and
// the same message, "unexpected symbol near ','". It is a lexer and a
// recursive-descent recognizer; it builds no tree and generates no code.
//
// It accepts what LuaJIT accepts beyond Lua 5.1 (goto and ::labels::, the
// \z escape, hex fractions and signed binary exponents, 0b binaries, LL,
// ULL and i number suffixes, bytes >= 0x80 in names, [[ inside [[ ]]),
// so that it never reports an error in code LuaJIT runs.
//
// Its work is linear in the size of the source and its recursion is
// bounded: nesting deeper than Lua's 200 levels is "chunk has too many
// syntax levels", as in Lua.
package syntax

import "strconv"

// Error is a syntax error: Chunk:Line: Msg.
type Error struct {
	Chunk string
	Line  int
	Msg   string
}

func (e *Error) Error() string { return e.Chunk + ":" + strconv.Itoa(e.Line) + ": " + e.Msg }
