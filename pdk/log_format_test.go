package pdk

import (
	"strings"
	"testing"
)

// set_format writes what Kong's kong/pdk/log.lua writes for the format
// (minus nginx's own prefix): each modifier, escaped and unknown ones kept
// as written, %namespace only after a character other than "%", the
// default back on nil or false (the namespaced one, also for core).
func TestKongLogSetFormat(t *testing.T) {
	cases := []struct {
		name, plugin, src string
		want              []string
	}{
		{"modifiers", "", `
local function my_func()
  kong.log.set_format("%file_src|%line_src|%func_name|%message")
  kong.log.notice("hello ", "world ", 1, " ", nil)
end
my_func()`, []string{"notice|[kong] f.lua|4|my_func|hello world 1 nil"}},
		{"func_name in a main chunk", "", `kong.log.set_format("(%func_name) %message") kong.log.err("x")`,
			[]string{"error|[kong] (?) x"}},
		{"called from Go", "", `kong.log.set_format("%file_src:%line_src:%func_name %message") pcall(kong.log.err, "x")`,
			[]string{"error|[kong] [C]:-1:pcall x"}},
		{"namespace of a plugin", "my-plugin", `kong.log.set_format("{%namespace} %message") kong.log.warn("hi")`,
			[]string{"warn|[kong] {my-plugin} hi"}},
		{"namespace of core", "", `kong.log.set_format("<%namespace> %message") kong.log("hi")`,
			[]string{"notice|[kong] <core> hi"}},
		{"namespace first is not replaced", "p", `kong.log.set_format("%namespace %message") kong.log("hi")`,
			[]string{"notice|[kong] %namespace hi"}},
		{"unknown and escaped modifiers", "p",
			`kong.log.set_format("%foo %messages %%message %Message %message_ %%namespace %line_src%message") kong.log("hi")`,
			[]string{"notice|[kong] %foo %messages %%message %Message %message_ %%namespace 1hi"}},
		{"several messages, none, empty", "", `
kong.log.set_format("%message | %message") kong.log("a", "b")
kong.log.set_format("a useless format") kong.log("c")
kong.log.set_format("") kong.log("d")`,
			[]string{"notice|[kong] ab | ab", "notice|[kong] a useless format", "notice|[kong] "}},
		{"nil and false restore the namespaced default", "my-plugin", `
kong.log.set_format("X %message") kong.log("a")
kong.log.set_format(nil) kong.log("b")
kong.log.set_format("X %message") kong.log.set_format(false) kong.log("c")
kong.log.set_format("X %message") kong.log.set_format() kong.log("d")`,
			[]string{"notice|[kong] X a", "notice|[kong] f.lua:3 [my-plugin] b", "notice|[kong] f.lua:4 [my-plugin] c",
				"notice|[kong] f.lua:5 [my-plugin] d"}},
		{"core's default becomes the namespaced one", "", `
kong.log("a")
kong.log.set_format(nil) kong.log("b")`,
			[]string{"notice|[kong] f.lua:2 a", "notice|[kong] f.lua:3 [core] b"}},
		// Kong's t/01-pdk/02-log/03-set_format.t TEST 14
		{"complex", "", `
local log = kong.log.new("my_namespace")
log.set_format("[%%namespace: %namespace | %namespace, " ..
               "%%file_src: %file_src | %file_src, " ..
               "%%line_src: %line_src | %line_src, " ..
               "%%func_name %func_name | %func_name, " ..
               "%%message %message | %message]")
local function my_func()
  log("hello world")
end
my_func()`, []string{"notice|[kong] [%%namespace: my_namespace | my_namespace, %%file_src: f.lua | f.lua, " +
			"%%line_src: 9 | 9, %%func_name my_func | my_func, %%message hello world | hello world]"}},
		{"a function read before keeps its format", "", `
local err = kong.log.err
kong.log.set_format("new %message")
err("a") kong.log.err("b")`,
			[]string{"error|[kong] f.lua:4 a", "error|[kong] new b"}},
		{"level filter", "", `kong.log.set_format("%message") kong.log.debug("no") kong.log.info("yes")`,
			[]string{"info|[kong] yes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, sink := newShimState(t, "log_level", "info")
			in.SetPluginName(c.plugin)
			run(t, in, "some/dir/f.lua", c.src)
			if got := sink.all(); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// Each plugin has its facility for the worker's life: its format stays
// across requests and does not reach core's nor another plugin's.
func TestKongLogFormatPerNamespace(t *testing.T) {
	in, sink := newShimState(t)
	in.SetPluginName("a")
	run(t, in, "a.lua", `kong.log.set_format("A %message") kong.log("1")`)
	in.SetPluginName("b")
	run(t, in, "b.lua", `kong.log("2")`)
	in.SetPluginName("")
	run(t, in, "c.lua", `kong.log("3")`)
	in.SetCtx(in.L.NewTable())
	in.SetPluginName("a")
	run(t, in, "a.lua", `kong.log("4") assert(kong.log == kong.log)`)
	want := []string{"notice|[kong] A 1", "notice|[kong] b.lua:1 [b] 2", "notice|[kong] c.lua:1 3", "notice|[kong] A 4"}
	if got := sink.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := str(t, in, `return rawget(kong, "log") == kong.log and type(kong.log.trace) == "function" and tostring(kong.log.new ~= nil)`); got != "true" {
		t.Errorf("facility fields: %s", got)
	}
}

// kong.log is a plain field of kong that SetPluginName switches (Kong's
// set_namespaced_log / reset_log): core's before any plugin, so a module
// keeping it at load time keeps core's; the plugin's while it runs, the
// same table each time; core's again after, and in a timer run meanwhile
// (no request, Kong's kong/pdk/init.lua gives core's), the plugin's once
// the timer is done.
func TestKongLogSwitchedByPlugin(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	in := env.ins[0]
	env.do(t, 0, `at_load = kong.log`)
	in.SetPluginName("p")
	env.do(t, 0, `
p_log = kong.log
ngx.timer.at(0, function() in_timer = kong.log end)`)
	Drain(in)
	wantStr(t, "in p", env.one(t, 0, `return rawget(kong, "log") == p_log, p_log ~= at_load,
		in_timer == at_load, kong.log == p_log`), "true true true true")
	in.SetPluginName("q")
	wantStr(t, "in q", env.one(t, 0, `return kong.log ~= p_log, kong.log ~= at_load`), "true true")
	in.SetPluginName("p")
	wantStr(t, "p again", env.one(t, 0, `return kong.log == p_log`), "true")
	in.SetPluginName("")
	wantStr(t, "after", env.one(t, 0, `return kong.log == at_load`), "true")
}

// kong.log.new(namespace, format): Kong's argument errors, the
// namespaced default format, a format of its own, the namespace read as a
// gsub replacement.
func TestKongLogNew(t *testing.T) {
	in, sink := newShimState(t)
	in.SetPluginName("p")
	run(t, in, "f.lua", `
local log = kong.log.new("my_namespace")
log("hello world")
kong.log.new("my_namespace", "%message")("custom")
kong.log.new("ns", false).err("false format")
kong.log.new("50%off")("escaped")
local l2 = log.new("second")
l2.set_format("ns=%namespace: %message")
l2.warn("own format")
log("first unchanged")
kong.log("plugin unchanged")
kong.log.inspect.off()
assert(type(log.inspect) == "table" and log.serialize == kong.log.serialize and log.set_serialize_value == kong.log.set_serialize_value)`)
	want := []string{
		"notice|[kong] f.lua:3 [my_namespace] hello world",
		"notice|[kong] custom",
		"error|[kong] f.lua:5 [ns] false format",
		"notice|[kong] f.lua:6 [50off] escaped",
		"warn|[kong] ns=second: own format",
		"notice|[kong] f.lua:10 [my_namespace] first unchanged",
		"notice|[kong] f.lua:11 [p] plugin unchanged",
	}
	if got := sink.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	errs := map[string]string{
		`kong.log.new()`:                     "test.lua:1: namespace must be a string",
		`kong.log.new(1)`:                    "test.lua:1: namespace must be a string",
		`kong.log:new("x")`:                  "test.lua:1: namespace must be a string",
		`kong.log.new("")`:                   "test.lua:1: namespace cannot be an empty string",
		`kong.log.new("ns", 1)`:              "test.lua:1: format must be a string if specified",
		`kong.log.new("ns", "")`:             "test.lua:1: format cannot be an empty string if specified",
		`kong.log.set_format(1)`:             "test.lua:1: format must be a string",
		`kong.log.set_format({})`:            "test.lua:1: format must be a string",
		`kong.log:set_format("x")`:           "test.lua:1: format must be a string",
		`kong.log.new("x").set_format(true)`: "test.lua:1: format must be a string",
		// a pcall'd call has no Lua caller: no position (Kong's 02-new.t TEST 1)
		`error(select(2, pcall(kong.log.new)), 0)`: "namespace must be a string",
	}
	for src, want := range errs {
		if got := luaErr(t, in, src); got != want {
			t.Errorf("%s raised %q, want %q", src, got, want)
		}
	}
	if got := luaErr(t, in, `kong.log.new("a%2")`); !strings.HasSuffix(got, "invalid capture index") {
		t.Errorf("a %%2 in the namespace: %q", got)
	}
}

// trace is a no-op unless KONG_IS_TESTING=1, then debug.
func TestKongLogTrace(t *testing.T) {
	for env, want := range map[string][]string{"": nil, "0": nil, "1": {"debug|[kong] f.lua:1 t"}} {
		t.Setenv("KONG_IS_TESTING", env)
		in, sink := newShimState(t, "log_level", "debug")
		run(t, in, "f.lua", `kong.log.trace("t")`)
		if got := sink.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("KONG_IS_TESTING=%q: got %q, want %q", env, got, want)
		}
	}
}

// A plugin name is read as Kong's gsub replacement ("%%" is "%"); one
// gsub refuses ("%2": invalid capture index, which Kong would raise in
// its runloop) gets core's format rather than failing the switch.
func TestKongLogPluginNameWithPercent(t *testing.T) {
	in, sink := newShimState(t)
	in.SetPluginName("p%%c")
	run(t, in, "f.lua", `kong.log("a")`)
	in.SetPluginName("bad%2")
	run(t, in, "f.lua", `kong.log("b")`)
	want := []string{"notice|[kong] f.lua:1 [p%c] a", "notice|[kong] f.lua:1 b"}
	if got := sink.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
