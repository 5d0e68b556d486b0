package pdk

import (
	"strings"
	"testing"
	"time"
)

// newLuaModState opens a state whose require finds the embedded Lua shims
// on disk (host/lua), as the host's loader will serve them.
func newLuaModState(t testing.TB, props ...string) (*Instance, *logSink) {
	t.Helper()
	in, sink := newShimState(t, props...)
	run(t, in, "setup.lua", `package.path = "../host/lua/?.lua;../host/lua/?/init.lua"`)
	return in, sink
}

func TestKongMetaAndConstants(t *testing.T) {
	in, _ := newLuaModState(t)
	in.Root.Version = "" // default
	cases := map[string]string{
		`local m = require "kong.meta" return m._NAME .. " " .. m._VERSION .. " " .. m.version`:                                                    "kong 3.9.1 3.9.1",
		`local v = require("kong.meta")._VERSION_TABLE return v.major .. v.minor .. v.patch .. tostring(v)`:                                        "3913.9.1",
		`return require("kong.meta")._SERVER_TOKENS`:                                                                                               "kong/3.9.1",
		`local c = require "kong.constants" return c.HEADERS.CONSUMER_ID .. c.HEADERS.ANONYMOUS`:                                                   "X-Consumer-IDX-Anonymous-Consumer",
		`local c = require "kong.constants" return c.HEADERS.CREDENTIAL_IDENTIFIER .. c.HEADERS.CONSUMER_CUSTOM_ID .. c.HEADERS.CONSUMER_USERNAME`: "X-Credential-IdentifierX-Consumer-Custom-IDX-Consumer-Username",
		`local c = require "kong.constants" return tostring(c.BUNDLED_PLUGINS["key-auth"]) .. tostring(c.BUNDLED_PLUGINS["nope"])`:                 "truenil",
		`local c = require "kong.constants" return table.concat(c.PROTOCOLS, ",")`:                                                                 "grpc,grpcs,http,https,tcp,tls,tls_passthrough,udp",
		`local c = require "kong.constants" return c.PROTOCOLS_WITH_SUBSYSTEM.tcp .. c.PROTOCOLS_WITH_SUBSYSTEM.https`:                             "streamhttp",
		`local c = require "kong.constants" return c.CORE_ENTITIES[2] .. tostring(c.CORE_ENTITIES.routes)`:                                         "consumerstrue",
		`local c = require "kong.constants" return c.ENTITY_CACHE_STORE.routes .. c.ENTITY_CACHE_STORE.my_entity`:                                  "core_cachecache",
		`local c = require "kong.constants" return c.DATABASE.POSTGRES.MIN .. " " .. c.DATABASE.DAO_MAX_TTL`:                                       "9.5 100000000",
		`local c = require "kong.constants" return c.LOG_LEVELS.error .. c.LOG_LEVELS[ngx.DEBUG]`:                                                  "4debug",
		`local c = require "kong.constants" return c.CLUSTERING_SYNC_STATUS.NORMAL .. c.RATELIMIT.PERIODS[6]`:                                      "normalyear",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	in2, _ := newLuaModState(t)
	in2.Root.Version = "2.8.5"
	if got := str(t, in2, `return require("kong.meta")._VERSION`); got != "2.8.5" {
		t.Errorf("configured version: %s", got)
	}
}

func TestClassicAndBasePlugin(t *testing.T) {
	in, sink := newLuaModState(t, "log_level", "debug")
	got := str(t, in, `
local Object = require "kong.vendor.classic"
local Point = Object:extend()
function Point:new(x, y) self.x, self.y = x, y end
function Point:__tostring() return "Point(" .. self.x .. "," .. self.y .. ")" end
local Point3 = Point:extend()
function Point3:new(x, y, z) Point3.super.new(self, x, y) self.z = z end
local Mixin = { hello = function(self) return "hi " .. self.x end, x = 1 }
Point:implement(Mixin)
local p = Point3(1, 2, 3)
return tostring(p) .. " " .. p.z .. " " .. tostring(p:is(Point)) .. tostring(p:is(Object)) ..
  tostring(Point(0, 0):is(Point3)) .. " " .. p:hello() .. " " .. tostring(Point.x) .. " " .. tostring(Object:extend()())`)
	if got != "Point(1,2) 3 truetruefalse hi 1 nil Object" {
		t.Fatalf("classic: %q", got)
	}
	run(t, in, "kong/plugins/legacy/handler.lua", `
local BasePlugin = require "kong.plugins.base_plugin"
local H = BasePlugin:extend()
H.PRIORITY = 1000
function H:new() H.super.new(self, "legacy") end
function H:access(conf) H.super.access(self) end
assert(H:is(BasePlugin))
local h = H()
h:access({})
h:log()
assert(h._name == "legacy")
assert(type(h.rewrite) == "function" and type(h.header_filter) == "function" and type(h.init_worker) == "function")`)
	lines := sink.all()
	want := []string{
		`debug|[lua] base_plugin.lua:35: access(): executing plugin "legacy": access`,
		`debug|[lua] base_plugin.lua:56: log(): executing plugin "legacy": log`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("base_plugin logs:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestToolsUtils(t *testing.T) {
	in, _ := newLuaModState(t)
	run(t, in, "init.lua", `utils = require "kong.tools.utils"`)
	cases := []struct{ src, want string }{
		{`return table.concat(utils.split("a,b,,c", ","), "|")`, "a|b||c"},
		{`return table.concat(utils.split("a,b,", ","), "|") .. #utils.split("a,b,", ",")`, "a|b|3"},
		{`return table.concat(utils.split("  a  b c ", nil), "|")`, "a|b|c"},
		{`return table.concat(utils.split("a.b.c", ".", 2), "|")`, "a|b.c"},
		{`return #utils.split("", ",")`, "0"},
		{`return "[" .. utils.strip("  x y \n") .. "][" .. utils.strip(nil) .. "][" .. utils.strip(12) .. "]"`, "[x y][][12]"},
		{`local t = utils.pack(1, nil, 3) return t.n .. tostring(t[2]) .. select("#", utils.unpack(t))`, "3nil3"},
		{`return #utils.uuid() .. tostring(utils.is_valid_uuid(utils.uuid()))`, "36true"},
		{`return tostring(utils.is_valid_uuid("not-a-uuid")) .. tostring(utils.is_valid_uuid("00000000-0000-0000-0000-000000000000")) .. tostring(utils.is_valid_uuid(1))`, "falsetruefalse"},
		{`local s = utils.random_string() return #s .. tostring(s:find("^[%w]+$") ~= nil) .. tostring(s ~= utils.random_string())`, "32truetrue"},
		{`local m = utils.table_merge({a = 1, b = 1}, {b = 2}) return m.a .. m.b`, "12"},
		{`return tostring(utils.table_contains({"a", "b"}, "b")) .. tostring(utils.table_contains(nil, "b"))`, "truefalse"},
		{`return tostring(utils.is_array({1, 2})) .. tostring(utils.is_array({1, nil, 3})) .. tostring(utils.is_array({a = 1})) .. tostring(utils.is_array({["1"] = "a"}, "lapis")) .. tostring(utils.is_array({[1] = 1, [3] = 3}, "fast"))`, "truefalsefalsetruetrue"},
		{`local o = {a = {b = 1}} local c = utils.deep_copy(o) c.a.b = 2 return o.a.b .. c.a.b`, "12"},
		{`local o = {a = {b = 1}} local c = utils.shallow_copy(o) return tostring(c.a == o.a)`, "true"},
		{`local m = utils.deep_merge({a = {b = 1, c = 1}}, {a = {c = 2}}) return m.a.b .. m.a.c`, "12"},
		{`return table.concat(utils.concat({1, 2}, {3}), ",")`, "1,2,3"},
		{`local e = utils.add_error(nil, "f", "x") utils.add_error(e, "f", "y") return table.concat(e.f, ",")`, "x,y"},
		{`local ok, m = utils.load_module_if_exists("kong.meta") return tostring(ok) .. m._NAME`, "truekong"},
		{`local ok, err = utils.load_module_if_exists("kong.nope") return tostring(ok) .. tostring(err:find("kong.nope", 1, true) ~= nil)`, "falsetrue"},
		{`return utils.encode_args({b = "x y", a = true, c = {1, 2}, d = ngx.null, ["e-f"] = "g"})`, "a=true&b=x%20y&c%5b1%5d=1&c%5b2%5d=2&d=&e%2df=g"},
		{`local t = utils.decode_args({a = "", b = "true", c = {["1"] = "x", ["2"] = "y"}}) return tostring(t.a == ngx.null) .. tostring(t.b) .. t.c[2]`, "truetruey"},
		{`return tostring(utils.validate_utf8("héllo")) .. select(2, utils.validate_utf8("ab\255"))`, "true3"},
		{`return utils.bytes_to_str(1536, "k") .. " " .. utils.bytes_to_str(10) .. " " .. utils.bytes_to_str(3 * 2^20, "M", 0)`, "1.50 KiB 10 3 MiB"},
		{`return tostring(utils.validate_header_name("X-Foo_1")) .. select(2, utils.validate_header_name("bad name"))`, "X-Foo_1bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'"},
		{`return select(2, utils.validate_cookie_name(""))`, "no cookie name provided"},
		{`return tostring(utils.is_valid_ip("1.2.3.4")) .. tostring(utils.is_valid_ip("::1")) .. tostring(utils.is_valid_ip("1.2.3")) .. tostring(utils.is_valid_ipv4("::1"))`, "truetruefalsefalse"},
		{`return tostring(utils.is_valid_cidr("10.0.0.0/8")) .. tostring(utils.is_valid_cidr("10.0.0.0/33")) .. tostring(utils.is_valid_cidr("::/0")) .. tostring(utils.is_valid_ip_or_cidr("1.1.1.1"))`, "truefalsetruetrue"},
		{`return utils.hostname_type("1.2.3.4") .. utils.hostname_type("::1") .. utils.hostname_type("example.com")`, "ipv4ipv6name"},
		{`local h, p = utils.normalize_ipv4("1.2.3.4:80") return h .. " " .. p`, "1.2.3.4 80"},
		{`return utils.normalize_ipv6("[::1]")`, "0000:0000:0000:0000:0000:0000:0000:0001"},
		{`local t = utils.normalize_ip("example.com:8000") return t.type .. t.host .. t.port`, "nameexample.com8000"},
		{`return select(2, utils.normalize_ip("exa mple.com"))`, "invalid hostname: exa mple.com"},
		{`return utils.format_host("::1", 80) .. " " .. utils.format_host("example.com", 80) .. " " .. utils.format_host({host = "1.2.3.4"})`, "[0000:0000:0000:0000:0000:0000:0000:0001]:80 example.com:80 1.2.3.4"},
		{`return utils.get_default_exit_body(404).message .. utils.get_default_exit_body(500, "x").message .. tostring(utils.get_default_exit_body(204))`, "Not foundAn unexpected error occurrednil"},
		{`return utils.get_mime_type("text/html; q=1") .. "|" .. utils.get_mime_type("*/*") .. "|" .. tostring(utils.get_mime_type("foo/bar", false))`, "text/html; charset=utf-8|application/json; charset=utf-8|nil"},
		{`return utils.get_error_template("text/plain")`, "%s\n"},
		{`local s = utils.topological_sort({"routes", "services"}, function(x) return x == "services" and {"routes"} or {} end) return table.concat(s, ",")`, "routes,services"},
		{`return select(2, utils.topological_sort({"a", "b"}, function(x) return x == "a" and {"b"} or {"a"} end))`, "Cycle detected, cannot sort topologically"},
		{`return utils.inflate_gzip(utils.deflate_gzip("hello gzip"))`, "hello gzip"},
		{`return utils.nginx_conf_time_to_seconds("1h 30m") .. " " .. utils.nginx_conf_time_to_seconds("10")`, "5400 10"},
	}
	for _, c := range cases {
		if got := str(t, in, c.src); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
	if msg := luaErr(t, in, `utils.bytes_to_str(1, "x")`); !strings.Contains(msg, "invalid unit 'x' (expected 'k/K', 'm/M', or 'g/G')") {
		t.Errorf("bytes_to_str: %s", msg)
	}
	if msg := luaErr(t, in, `utils.nginx_conf_time_to_seconds("abc")`); !strings.Contains(msg, "bad argument #1 'str'") {
		t.Errorf("nginx time: %s", msg)
	}
}

func TestTools3x(t *testing.T) {
	in, _ := newLuaModState(t)
	in.Root.Now = func() time.Time { return time.Date(2024, 3, 15, 10, 42, 17, 250e6, time.UTC) }
	cases := []struct{ src, want string }{
		{`local c = require "kong.tools.cjson" local t = c.decode_with_array_mt("[]") return c.encode(t) .. c.encode(c.new_array()) .. c.encode(1/3)`, "[][]0.3333333333333333"},
		{`local c = require "kong.tools.cjson" return tostring(getmetatable(c.decode_with_array_mt("[1]")) == c.array_mt)`, "true"},
		{`return require("kong.tools.sha256").sha256_hex("abc")`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{`return require("kong.tools.sha256").sha256_base64("abc")`, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
		{`return require("kong.tools.sha256").sha256_base64url("abc")`, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"},
		{`local ts = require "kong.tools.timestamp" return string.format("%d %d", ts.get_utc(), ts.get_utc_ms())`, "1710499337000 1710499337250"},
		{`local s = require("kong.tools.timestamp").get_timestamps() return string.format("%d %d %d %d %d %d", s.second, s.minute, s.hour, s.day, s.month, s.year)`,
			"1710499337000 1710499320000 1710496800000 1710460800000 1709251200000 1704067200000"},
		{`local s = require("kong.tools.timestamp").get_timestamps(1710499337) return string.format("%d", s.minute)`, "1710499320000"},
		{`return table.concat(require("kong.tools.timestamp").timestamp_table_fields, ",")`, "second,minute,hour,day,month,year"},
		{`return require("kong.tools.gzip").inflate_gzip(require("kong.tools.gzip").deflate_gzip("zz"))`, "zz"},
		{`return tostring(require("kong.tools.yield").in_yieldable_phase("access")) .. tostring(require("kong.tools.yield").in_yieldable_phase("init"))`, "truenil"},
		{`local ok = require("kong.tools.module").load_module_if_exists("kong.meta") return tostring(ok)`, "true"},
	}
	for _, c := range cases {
		if got := str(t, in, c.src); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
}

// kong.tools.time (Kong 3.7+) on the root's clock, re-exported by
// kong.tools.utils as Kong's is.
func TestToolsTime(t *testing.T) {
	in, _ := newLuaModState(t)
	in.Root.Now = func() time.Time { return time.Date(2024, 3, 15, 10, 42, 17, 250e6, time.UTC) }
	cases := []struct{ src, want string }{
		{`local tt = require "kong.tools.time" return string.format("%d %d %.3f", tt.get_now_ms(), tt.get_updated_now_ms(), tt.get_updated_now())`,
			"1710499337250 1710499337250 1710499337.250"},
		{`return string.format("%.0f", require("kong.tools.time").time_ns() / 1e6)`, "1710499337250"},
		{`local tt = require "kong.tools.time" local a = tt.get_updated_monotonic_ms() local b = tt.get_updated_monotonic_ms()
		  return type(a) .. tostring(b >= a and a >= 0 and a == math.floor(a))`, "numbertrue"},
		{`local tt = require "kong.tools.time" return tt.nginx_conf_time_to_seconds("1h 30m") .. " " .. tt.nginx_conf_time_to_seconds("10")`, "5400 10"},
		{`local u, tt = require "kong.tools.utils", require "kong.tools.time"
		  return tostring(u.get_updated_now_ms == tt.get_updated_now_ms and u.time_ns == tt.time_ns and u.nginx_conf_time_to_seconds == tt.nginx_conf_time_to_seconds)`, "true"},
	}
	for _, c := range cases {
		if got := str(t, in, c.src); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
	if msg := luaErr(t, in, `require("kong.tools.time").nginx_conf_time_to_seconds("abc")`); !strings.Contains(msg, "bad argument #1 'str'") {
		t.Errorf("nginx time: %s", msg)
	}
}
