// Package restyshell is the module resty.shell (OpenResty's
// lua-resty-shell, which runs a command over ngx.pipe), Go-backed with
// os/exec: run(cmd, stdin, timeout, max_size) -> ok, stdout, stderr,
// reason, status. It also holds the process runner spec.helpers' execute
// uses (Run).
package restyshell

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// DefaultTimeout is ngx.pipe's default for its write, read and wait
// timeouts, which resty.shell keeps when run is given none.
const DefaultTimeout = 10 * time.Second

// DefaultMaxSize is resty.shell's default cap on stdout and on stderr.
const DefaultMaxSize = 128 * 1024

// ErrTimeout is ngx.pipe's "timeout": the command outlived its timeout and
// was killed.
var ErrTimeout = errors.New("timeout")

// Result is what a command left: its output (each stream cut at the
// maximum Run was given), how it ended and whether a stream was cut.
type Result struct {
	Stdout, Stderr []byte
	// Code is the exit status, or the signal's number when Signaled.
	Code     int
	Signaled bool
	// TooMuch names the stream ("stdout", "stderr") that exceeded the
	// maximum, stdout first; "" when none did.
	TooMuch string
}

// capped keeps the first max bytes written to it and drops the rest (so a
// chatty command never blocks on a full pipe), noting the overflow.
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room < len(p) {
		c.over = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// Run runs argv (argv[0] looked up on PATH) with stdin as its input, under
// ctx and timeout (0: none), keeping at most maxSize bytes of each stream
// (<= 0: no cap). On timeout the command gets SIGTERM, then SIGKILL, as
// resty.shell's cleanup does, and Run returns what it wrote so far with
// ErrTimeout. Any other error means the command did not start.
func Run(ctx context.Context, argv []string, stdin []byte, timeout time.Duration, maxSize int) (Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if maxSize <= 0 {
		maxSize = int(^uint(0) >> 1)
	}
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	c.WaitDelay = 50 * time.Millisecond // then SIGKILL
	if len(stdin) > 0 {
		c.Stdin = bytes.NewReader(stdin)
	}
	out, errb := &capped{max: maxSize}, &capped{max: maxSize}
	c.Stdout, c.Stderr = out, errb
	err := c.Run()
	res := Result{Stdout: out.buf.Bytes(), Stderr: errb.buf.Bytes()}
	switch {
	case out.over:
		res.TooMuch = "stdout"
	case errb.over:
		res.TooMuch = "stderr"
	}
	if c.ProcessState == nil {
		return res, err
	}
	if ctx.Err() != nil && !c.ProcessState.Success() {
		return res, ErrTimeout
	}
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Code, res.Signaled = int(ws.Signal()), true
	} else {
		res.Code = c.ProcessState.ExitCode()
	}
	return res, nil
}

// Argv is resty.shell's (ngx.pipe.spawn's) cmd: a string runs through
// /bin/sh -c, a table is the argument vector itself.
func Argv(L *lua.LState, n int) []string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return []string{"/bin/sh", "-c", string(v)}
	case *lua.LTable:
		var argv []string
		for i := 1; i <= v.Len(); i++ {
			argv = append(argv, lua.LVAsString(v.RawGetInt(i)))
		}
		if len(argv) == 0 {
			L.ArgError(n, "bad args arg: non-empty table expected")
		}
		return argv
	default:
		L.ArgError(n, "bad args arg: table expected, got "+v.Type().String())
	}
	return nil
}

// Open preloads resty.shell in L. phase is ngx.get_phase()'s answer: run
// waits for the command, which ngx.pipe allows where a handler may yield.
func Open(L *lua.LState, phase func() string) {
	L.PreloadModule("resty.shell", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"run": func(L *lua.LState) int { return run(L, phase) },
		})
		mod.RawSetString("version", lua.LNumber(0.03))
		L.Push(mod)
		return 1
	})
}

// run is shell.run(cmd, stdin?, timeout_ms?, max_size?): true, stdout,
// stderr, "exit", 0 on success; false, stdout, stderr, "exit", code or
// "signal", signo when the command failed; nil, stdout?, stderr?, reason
// when it could not be run to its end (spawn failure, timeout, too much
// output). A timeout of 0 waits for ever.
func run(L *lua.LState, phase func() string) int {
	argv := Argv(L, 1)
	bind.CheckContext(L, phase(), bind.Yieldable)
	stdin := []byte(L.OptString(2, ""))
	timeout := DefaultTimeout
	if v, ok := L.Get(3).(lua.LNumber); ok {
		timeout = time.Duration(float64(v) * float64(time.Millisecond))
	}
	maxSize := L.OptInt(4, DefaultMaxSize)
	res, err := Run(L.Context(), argv, stdin, timeout, maxSize)
	switch {
	case errors.Is(err, ErrTimeout):
		L.Push(lua.LNil)
		L.Push(lua.LString(res.Stdout))
		L.Push(lua.LString(res.Stderr))
		L.Push(lua.LString("failed to wait for process: timeout"))
		return 4
	case err != nil:
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		L.Push(lua.LString("failed to spawn: " + err.Error()))
		return 4
	case res.TooMuch != "":
		L.Push(lua.LNil)
		L.Push(lua.LString(res.Stdout))
		L.Push(lua.LString(res.Stderr))
		L.Push(lua.LString("failed to read " + res.TooMuch + ": too much data"))
		return 4
	}
	L.Push(lua.LBool(!res.Signaled && res.Code == 0))
	L.Push(lua.LString(res.Stdout))
	L.Push(lua.LString(res.Stderr))
	if res.Signaled {
		L.Push(lua.LString("signal"))
	} else {
		L.Push(lua.LString("exit"))
	}
	L.Push(lua.LNumber(res.Code))
	return 5
}
