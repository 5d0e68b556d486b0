package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePlugin writes a plugin directory <root>/<name> with the given
// handler.lua (and a minimal schema.lua).
func writePlugin(t *testing.T, root, name, handler string, extra ...string) {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"handler.lua": handler,
		"schema.lua":  `return { name = "` + name + `", fields = { { config = { type = "record", fields = {} } } } }`,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		files[extra[i]] = extra[i+1]
	}
	for f, src := range files {
		if err := writeFile(filepath.Join(dir, f), src); err != nil {
			t.Fatal(err)
		}
	}
}

// A handler whose metatable's __index raises, loops or recurses fails its
// own load with an error naming the plugin: the loader reads PRIORITY,
// VERSION, extend and the phases inside a protected call under the
// deadline. Before, these were a Go panic with a goroutine dump (exit 2),
// a hang for ever and a Go stack overflow. An __index that behaves still
// works, as in Kong.
func TestHostileHandlerMetatablesFailTheirLoad(t *testing.T) {
	root := t.TempDir()
	writePlugin(t, root, "idx-error", `return setmetatable({}, { __index = function(t, k) error("no field " .. k) end })`)
	writePlugin(t, root, "idx-loop", `return setmetatable({}, { __index = function() while true do end end })`)
	writePlugin(t, root, "idx-recurse", `local mt = {}
mt.__index = function(t, k) return t[k .. "x"] end
return setmetatable({}, mt)`)
	writePlugin(t, root, "idx-chain", `local t = {}
setmetatable(t, { __index = t })
return t`)
	c := testConf(t, root)
	c.Set("lua_timeout", "200", "test")
	_, err := New(Options{Conf: c, Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) {
		t.Fatalf("want *PluginErrors, got %v", err)
	}
	want := map[string]string{
		"idx-error":   "no field",
		"idx-loop":    "deadline",
		"idx-recurse": "stack overflow",
		"idx-chain":   "too many recursions",
	}
	got := map[string]string{}
	for _, le := range pe.Errs {
		got[le.Plugin] = le.Error()
	}
	for name, part := range want {
		msg, ok := got[name]
		if !ok {
			t.Errorf("%s: loaded, want a load error", name)
			continue
		}
		if !strings.Contains(msg, part) || strings.Contains(msg, "goroutine") || strings.Contains(msg, "runtime error") {
			t.Errorf("%s: %s (want %q)", name, msg, part)
		}
	}

	// metamethods that behave are honoured
	good := t.TempDir()
	writePlugin(t, good, "idx-meta", `local fields = { PRIORITY = 7, VERSION = "1.0.0", access = function() end }
return setmetatable({}, { __index = function(_, k) return fields[k] end })`)
	h := newTestHost(t, testConf(t, good))
	p := h.Plugin("idx-meta")
	if p == nil || p.Priority != 7 || p.Version != "1.0.0" || fmt.Sprint(p.Phases) != "[access]" {
		t.Fatalf("metamethod fields not read: %+v", p)
	}
}

// Files over lua_max_source_size are refused before compilation, with an
// error naming the file and the limit; compilation does not count against
// lua_timeout (before, a file that took longer to compile than the
// deadline was reported as a runaway call).
func TestSourceSizeLimitAndCompileOutsideDeadline(t *testing.T) {
	root := t.TempDir()
	big := "return 1 --" + strings.Repeat("x", 100<<10) + "\n"
	writePlugin(t, root, "too-big", `local x = require "kong.plugins.too-big.data"
return { PRIORITY = 1, VERSION = "1.0.0" }`, "data.lua", big)
	c := testConf(t, root)
	c.Set("lua_max_source_size", "64k", "test")
	_, err := New(Options{Conf: c, Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) || len(pe.Errs) != 1 {
		t.Fatalf("want one load error, got %v", err)
	}
	msg := pe.Errs[0].Error()
	for _, part := range []string{"too-big", "data.lua", "lua_max_source_size (65536 bytes)", fmt.Sprint(len(big))} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not name %q", msg, part)
		}
	}

	// A module whose compilation takes longer than lua_timeout (a data
	// file of many distinct constants) is still loaded: compiling is not
	// charged to the deadline of the call that required it. The slow
	// compilation is simulated, three deadlines long, so that the test does
	// not depend on how fast this machine compiles.
	slow := t.TempDir()
	writePlugin(t, slow, "slow-compile", `local d = require "kong.plugins.slow-compile.data"
assert(#d == 3)
return { PRIORITY = 1, VERSION = "1.0.0" }`, "data.lua", "return { 1, 2, 3 }\n")
	const timeout = 300 * time.Millisecond
	compileHook = func(path string) {
		if strings.HasSuffix(path, filepath.Join("slow-compile", "data.lua")) {
			time.Sleep(3 * timeout) // the slow compilation itself, not a synchronisation
		}
	}
	defer func() { compileHook = nil }()
	c = testConf(t, slow)
	c.Set("lua_timeout", fmt.Sprint(timeout.Milliseconds()), "test")
	newTestHost(t, c)
}
