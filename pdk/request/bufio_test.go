package request

import (
	"bufio"
	lua "github.com/yuin/gopher-lua"
	"strings"
)

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func luaNumber(n int) lua.LNumber { return lua.LNumber(n) }
