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
// '#' is ignored, as LuaJIT and lua.c do. Functions with very many constants
// are compiled in pieces (splitChunk), so that compile time grows linearly
// with the file.
func Compile(chunk string, src []byte) (*lua.FunctionProto, error) {
	return compile(chunk, src, nil)
}

// compile is Compile with an optional rewrite of the parsed chunk (the
// coverage instrumentation) before luavm's own.
func compile(chunk string, src []byte, rewrite func([]ast.Stmt) []ast.Stmt) (*lua.FunctionProto, error) {
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
	if rewrite != nil {
		stmts = rewrite(stmts)
	}
	proto, err := lua.Compile(fixJumps(splitChunk(fixAssignments(stmts))), chunk)
	if err != nil {
		// gopher-lua's compiler finds a few errors Lua 5.1's parser reports
		// ("no loop to break", "cannot use '...' outside a vararg
		// function") and words them its own way
		if e := syntax.Check(src, chunk); e != nil {
			return nil, &SyntaxError{Chunk: chunk, Line: e.Line, Msg: e.Msg, Err: err}
		}
		return nil, err
	}
	internProto(proto)
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
