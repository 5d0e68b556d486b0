package spechelpers

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/lib/restyshell"
)

// shell runs cmd with /bin/sh -c, as resty.shell.run does for Kong's
// helpers.execute (restyshell.Run, with no timeout and no cap): shell(cmd[,
// stdin]) -> code, stdout, stderr, or nil and an error when the shell
// could not be started. A command killed by a signal has code 128 + the
// signal, as sh reports it.
func shell(L *lua.LState) int {
	var stdin []byte
	if in, ok := L.Get(2).(lua.LString); ok {
		stdin = []byte(in)
	}
	res, err := restyshell.Run(L.Context(), []string{"/bin/sh", "-c", L.CheckString(1)}, stdin, 0, 0)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	code := res.Code
	if res.Signaled {
		code += 128
	}
	L.Push(lua.LNumber(code))
	L.Push(lua.LString(res.Stdout))
	L.Push(lua.LString(res.Stderr))
	return 3
}
