package luavm

import (
	"bytes"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Compile parses and compiles one chunk of Lua 5.1 source named chunk (the
// name errors and debug information carry: "kong/plugins/x/handler.lua").
// A leading UTF-8 byte order mark is skipped and a first line starting with
// '#' is ignored, as LuaJIT and lua.c do.
func Compile(chunk string, src []byte) (*lua.FunctionProto, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(src, []byte("#")) {
		// keep the line count: comment the first line out
		src = append([]byte("--"), src...)
	}
	stmts, err := parse.Parse(bytes.NewReader(src), chunk)
	if err != nil {
		return nil, &SyntaxError{Chunk: chunk, Err: err}
	}
	return lua.Compile(stmts, chunk)
}

// SyntaxError is a Lua parse error, carrying the chunk name.
type SyntaxError struct {
	Chunk string
	Err   error
}

func (e *SyntaxError) Error() string { return e.Err.Error() }

func (e *SyntaxError) Unwrap() error { return e.Err }
