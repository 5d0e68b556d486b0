package restyshell_test

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

// run's five answers as lua-resty-shell's: success, a failed exit, a
// signal, stdin, argv tables, a timeout, too much output, spawn failure.
func TestRun(t *testing.T) {
	in, _ := pdktest.New(t)
	in.Phase = "timer"
	show := `local function show(...)
	  local t = { ... }
	  for i = 1, 5 do t[i] = tostring(t[i]) end
	  return table.concat(t, "|", 1, 5)
	end
	local shell = require "resty.shell" `
	cases := map[string]string{
		`return show(shell.run("echo out; echo err >&2"))`:                   "true|out\n|err\n|exit|0",
		`return show(shell.run("exit 3"))`:                                   "false|||exit|3",
		`return show(shell.run("kill -TERM $$"))`:                            "false|||signal|15",
		`return show(shell.run("tr a-z A-Z", "hello"))`:                      "true|HELLO||exit|0",
		`return show(shell.run({ "printf", "%s-%s", "a b", "c" }))`:          "true|a b-c||exit|0",
		`return show(shell.run("exec sleep 10", nil, 100))`:                  "nil|||failed to wait for process: timeout|nil",
		`return show(shell.run("printf 0123456789; echo e >&2", nil, 0, 4))`: "nil|0123|e\n|failed to read stdout: too much data|nil",
		`return show(shell.run("echo ok", nil, 0))`:                          "true|ok\n||exit|0",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, show+src); got != want {
			t.Errorf("%s\n= %q, want %q", src, got, want)
		}
	}
	got := pdktest.Str(t, in, show+`return show(shell.run({ "/nonexistent/cmd" }))`)
	if !strings.HasPrefix(got, "nil|nil|nil|failed to spawn: ") {
		t.Errorf("spawn failure: %q", got)
	}
	if msg := pdktest.LuaErr(t, in, `require("resty.shell").run(42)`); !strings.Contains(msg, "bad args arg: table expected, got number") {
		t.Errorf("bad cmd: %s", msg)
	}
	// ngx.pipe waits only where a handler may yield
	in.Phase = "log"
	if msg := pdktest.LuaErr(t, in, `require("resty.shell").run("true")`); !strings.Contains(msg, "API disabled in the context of log_by_lua*") {
		t.Errorf("log phase: %s", msg)
	}
}
