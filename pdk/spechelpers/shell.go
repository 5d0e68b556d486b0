package spechelpers

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"

	lua "github.com/yuin/gopher-lua"
)

// shell runs cmd with /bin/sh -c, as resty.shell.run does for Kong's
// helpers.execute: shell(cmd[, stdin]) -> code, stdout, stderr, or nil and
// an error when the shell could not be started. A command killed by a
// signal has code 128 + the signal, as sh reports it.
func shell(L *lua.LState) int {
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	c := exec.CommandContext(ctx, "/bin/sh", "-c", L.CheckString(1))
	if in, ok := L.Get(2).(lua.LString); ok {
		c.Stdin = bytes.NewReader([]byte(in))
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			L.Push(lua.LNil)
			L.Push(lua.LString(err.Error()))
			return 2
		}
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	L.Push(lua.LNumber(code))
	L.Push(lua.LString(out.String()))
	L.Push(lua.LString(errb.String()))
	return 3
}
