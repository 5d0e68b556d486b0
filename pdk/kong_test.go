package pdk

import (
	"strings"
	"testing"
)

func TestKongLogPrefix(t *testing.T) {
	in, sink := newShimState(t, "log_level", "info")
	in.SetPluginName("key-auth")
	run(t, in, "kong/plugins/key-auth/handler.lua", `
kong.log.err("no key: ", nil, " ", 3, " ", {} ~= nil)
kong.log.debug("filtered out")
kong.log("plain notice")
kong.log.warn(setmetatable({}, { __tostring = function() return "T" end }))`)
	in.SetPluginName("")
	run(t, in, "kong/runloop/handler.lua", `kong.log.info("core")`)
	want := []string{
		"error|[kong] handler.lua:2 [key-auth] no key: nil 3 true",
		"notice|[kong] handler.lua:4 [key-auth] plain notice",
		"warn|[kong] handler.lua:5 [key-auth] T",
		"info|[kong] handler.lua:1 core",
	}
	if got := sink.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestKongLogLevelsAndInspect(t *testing.T) {
	in, sink := newShimState(t, "log_level", "debug")
	run(t, in, "h.lua", `
for _, l in ipairs({"debug","info","notice","warn","err","crit","alert","emerg"}) do kong.log[l](l) end
local function access() kong.log.inspect({ a = 1 }, "s") end
access()
kong.log.inspect.off()
kong.log.inspect("hidden")`)
	got := sink.all()
	levels := []string{"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}
	for i, l := range levels {
		if !strings.HasPrefix(got[i], l+"|[kong] h.lua:2 ") {
			t.Errorf("line %d = %q", i, got[i])
		}
	}
	box := got[len(levels):]
	// the core facility's namespace is "core" (Kong's log.lua new_inspect,
	// new_log("core", ...))
	if len(box) != 5 || !strings.HasPrefix(box[0], "notice|[kong] h.lua:access:3 [core]---") || !strings.HasSuffix(box[0], "-+") {
		t.Fatalf("inspect box:\n%s", strings.Join(box, "\n"))
	}
	if box[1] != "notice||{"+strings.Repeat(" ", 119)+"|" || !strings.HasPrefix(box[3], `notice||} "s"`) {
		t.Errorf("inspect body:\n%s", strings.Join(box, "\n"))
	}
	if len(box[0]) != len("notice|")+122 || box[4] != "notice|+"+strings.Repeat("-", 120)+"+" {
		t.Errorf("inspect frame:\n%s", strings.Join(box, "\n"))
	}
}

func TestKongLogSerializeValues(t *testing.T) {
	in, _ := newShimState(t)
	got := str(t, in, `
kong.log.set_serialize_value("request.headers.x", "1")
kong.log.set_serialize_value("request.headers.x", "2", { mode = "add" })
kong.log.set_serialize_value("request.size", 10, { mode = "replace" })
kong.log.set_serialize_value("custom", { a = true })
local s = kong.log.serialize()
return s.request.headers.x .. tostring(s.request.size) .. tostring(s.custom.a)`)
	if got != "1niltrue" {
		t.Fatalf("serialize = %q", got)
	}
	errs := map[string]string{
		`kong.log.set_serialize_value(1, 1)`:                        "test.lua:1: key must be a string",
		`kong.log.set_serialize_value("a", 1, { mode = "x" })`:      "test.lua:1: mode must be 'set', 'add' or 'replace'",
		`kong.log.set_serialize_value("a", print)`:                  "test.lua:1: value must be a number, string, boolean or a non-self-referencial table containing numbers, string and booleans",
		`local t = {} t.t = t kong.log.set_serialize_value("a", t)`: "test.lua:1: value must be a number, string, boolean or a non-self-referencial table containing numbers, string and booleans",
	}
	for src, want := range errs {
		if got := luaErr(t, in, src); got != want {
			t.Errorf("%s raised %q, want %q", src, got, want)
		}
	}
	in.SetCtx(in.L.NewTable())
	if got := str(t, in, `return next(kong.log.serialize())`); got != "nil" {
		t.Errorf("serialize values survived the request: %s", got)
	}
}

func TestKongGlobals(t *testing.T) {
	in, _ := newShimState(t, "plugins", "bundled,my-plugin", "pg_port", "5433", "pg_ssl", "on", "pg_password", "")
	in.Root.NodeID = ""
	cases := map[string]string{
		`return kong.version`:                                                       DefaultVersion,
		`return kong.version_num`:                                                   "3009001",
		`return kong.configuration.plugins[2]`:                                      "my-plugin",
		`return tostring(kong.configuration.loaded_plugins["my-plugin"])`:           "true",
		`return kong.configuration.pg_port + 1`:                                     "5434",
		`return kong.configuration.pg_ssl`:                                          "true",
		`return type(kong.configuration.allow_debug_header)`:                        "boolean",
		`return tostring(kong.configuration.pg_password)`:                           "nil",
		`return kong.configuration.database`:                                        "off",
		`return tostring(kong.configuration.nope)`:                                  "nil",
		`return #kong.node.get_id()`:                                                "36",
		`return kong.node.get_id() == kong.node.get_id()`:                           "true",
		`return type(kong.node.get_hostname())`:                                     "string",
		`local t = kong.table.new(4, 4) t.a = 1 kong.table.clear(t) return next(t)`: "nil",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if msg := luaErr(t, in, `kong.configuration.database = "postgres"`); !strings.Contains(msg, "cannot write to Kong configuration") {
		t.Errorf("write: %s", msg)
	}
	if VersionNum("2.8.5") != 2008005 || VersionNum("3.10.0-alpha.1") != 3010000 {
		t.Error("VersionNum")
	}
}

func TestKongCtx(t *testing.T) {
	in, _ := newShimState(t)
	in.SetPluginName("a")
	run(t, in, "a.lua", `kong.ctx.shared.user = "bob" kong.ctx.plugin.n = 1`)
	in.SetPluginName("b")
	if got := str(t, in, `return kong.ctx.shared.user .. tostring(kong.ctx.plugin.n)`); got != "bobnil" {
		t.Fatalf("plugin b sees %q", got)
	}
	in.SetPluginName("a")
	if got := str(t, in, `return kong.ctx.plugin.n`); got != "1" {
		t.Fatalf("plugin a sees %q", got)
	}
	in.SetCtx(in.L.NewTable()) // next request
	if got := str(t, in, `return tostring(kong.ctx.shared.user) .. tostring(kong.ctx.plugin.n)`); got != "nilnil" {
		t.Fatalf("after reset: %q", got)
	}
}

// kong.table.merge is Kong's table_merge: a new table, t2 over t1, one
// level deep, nil arguments empty.
func TestKongTableMerge(t *testing.T) {
	in, _ := newShimState(t)
	cases := map[string]string{
		`local a, b = { x = 1, y = { 1 } }, { y = 2, z = 3 }
		 local m = kong.table.merge(a, b)
		 return m.x .. m.y .. m.z .. tostring(m ~= a and m ~= b) .. tostring(a.y[1]) .. tostring(b.x)`: "123true1nil",
		`local inner = {} local m = kong.table.merge({ t = inner }) return m.t == inner`: "true",
		`local m = kong.table.merge(nil, { 1, 2 }) return #m`:                            "2",
		`return next(kong.table.merge())`:                                                "nil",
		`local m = kong.table.merge(false, { a = 1 }) return m.a`:                        "1",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if msg := luaErr(t, in, `kong.table.merge({}, "x")`); msg != "test.lua:1: bad argument #1 to 'pairs' (table expected, got string)" {
		t.Errorf("merge with a string: %s", msg)
	}
}

// kong.configuration.enabled_headers and enabled_headers_upstream are
// conf_loader's: every known header keyed by its name, true when the
// headers setting (or its default) enables it; plugins index them
// (azure-functions: enabled_headers.Via).
func TestKongConfigurationEnabledHeaders(t *testing.T) {
	in, _ := newShimState(t)
	cases := map[string]string{
		`local e = kong.configuration.enabled_headers return tostring(e.Via) .. tostring(e.Server) .. tostring(e["X-Kong-Upstream-Latency"]) .. tostring(e["X-Kong-Upstream-Status"])`: "truetruetruefalse",
		`return tostring(kong.configuration.enabled_headers_upstream["X-Kong-Request-Id"])`:                                                                                            "true",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("defaults: %s = %q, want %q", src, got, want)
		}
	}
	in, _ = newShimState(t, "headers", "via,X-Kong-Upstream-Status", "headers_upstream", "off")
	cases = map[string]string{
		`local e = kong.configuration.enabled_headers return tostring(e.Via) .. tostring(e.Server) .. tostring(e["X-Kong-Upstream-Status"]) .. tostring(e.server_tokens)`: "truefalsetruefalse",
		`return tostring(kong.configuration.enabled_headers_upstream["X-Kong-Request-Id"])`:                                                                               "false",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("set: %s = %q, want %q", src, got, want)
		}
	}
}

// kong.configuration.remove_sensitive() is Kong's: a copy with the
// sensitive properties as "******" (the sandbox's kong.configuration).
func TestKongConfigurationRemoveSensitive(t *testing.T) {
	in, _ := newShimState(t, "pg_password", "secret", "pg_port", "5433", "plugins", "bundled,my-plugin")
	cases := map[string]string{
		`local c = kong.configuration.remove_sensitive() return c.pg_password .. " " .. c.pg_port .. " " .. c.plugins[2] .. " " .. tostring(c.pg_ro_password)`: "****** 5433 my-plugin nil",
		`return kong.configuration.pg_password`:                              "secret",
		`local c = kong.configuration.remove_sensitive() c.x = 1 return c.x`: "1",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}

// The array, number and boolean properties of Kong's conf_loader read
// typed: untrusted_lua_sandbox_requires is a list (the sandbox allows
// its modules; as a string it allowed none).
func TestKongConfigurationTypedAsKongs(t *testing.T) {
	in, _ := newShimState(t, "untrusted_lua_sandbox_requires", "inspect, pl.pretty", "untrusted_lua_sandbox_environment", "os.getenv",
		"lua_max_uri_args", "50", "cluster_rpc", "off")
	cases := map[string]string{
		`local r = kong.configuration.untrusted_lua_sandbox_requires return #r .. r[1] .. r[2]`: "2inspectpl.pretty",
		`return kong.configuration.untrusted_lua_sandbox_environment[1]`:                        "os.getenv",
		`return kong.configuration.lua_max_uri_args + 1`:                                        "51",
		`return type(kong.configuration.cluster_rpc)`:                                           "boolean",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
