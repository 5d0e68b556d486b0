package pdk

import (
	"strings"
	"testing"
	"time"
)

func TestNgxNullAndConstants(t *testing.T) {
	in, _ := newShimState(t)
	cases := map[string]string{
		`return tostring(ngx.null)`:                                           "userdata: NULL",
		`return ngx.null == require("cjson").null`:                            "true",
		`return ngx.null == require("cjson.safe").null`:                       "true",
		`return type(ngx.null)`:                                               "userdata",
		`return ngx.ERR .. ngx.WARN .. ngx.NOTICE .. ngx.DEBUG`:               "4568",
		`return ngx.STDERR .. ngx.EMERG .. ngx.ALERT .. ngx.CRIT`:             "0123",
		`return ngx.INFO`:                                                     "7",
		`return ngx.HTTP_OK .. " " .. ngx.HTTP_NOT_FOUND`:                     "200 404",
		`return ngx.HTTP_INTERNAL_SERVER_ERROR`:                               "500",
		`return ngx.HTTP_GET .. " " .. ngx.HTTP_POST`:                         "2 8",
		`return ngx.OK .. ngx.ERROR .. ngx.AGAIN .. ngx.DONE .. ngx.DECLINED`: "0-1-2-4-5",
		`return ngx.config.subsystem`:                                         "http",
		`return ngx.config.prefix()`:                                          "/usr/local/kong/",
		`return type(ngx.config.ngx_lua_version)`:                             "number",
		`return ngx.worker.id() .. "/" .. ngx.worker.count()`:                 "0/2",
		`return ngx.worker.pid()`:                                             "4242",
		`return ngx.worker.exiting()`:                                         "false",
		`return ngx.get_phase()`:                                              "init",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	in.Phase = "access"
	if got := str(t, in, `return ngx.get_phase()`); got != "access" {
		t.Errorf("get_phase = %q", got)
	}
}

func TestNgxCtxSwappedByHost(t *testing.T) {
	in, _ := newShimState(t)
	run(t, in, "a.lua", `ngx.ctx.a = 1`)
	if got := str(t, in, `return ngx.ctx.a`); got != "1" {
		t.Fatalf("ngx.ctx.a = %s", got)
	}
	in.SetCtx(in.L.NewTable()) // the host resets it per request
	if got := str(t, in, `return ngx.ctx.a`); got != "nil" {
		t.Fatalf("after reset ngx.ctx.a = %s", got)
	}
	run(t, in, "b.lua", `ngx.ctx = { b = 2 }`)
	if got := in.CurrentCtx().RawGetString("b").String(); got != "2" {
		t.Fatalf("ngx.ctx assignment not seen by the host: %s", got)
	}
	if got := str(t, in, `ngx.foo = 3 return rawget(ngx, "foo")`); got != "3" {
		t.Fatalf("other ngx fields: %s", got)
	}
}

func TestNgxLogFormatAndFilter(t *testing.T) {
	in, sink := newShimState(t, "log_level", "info")
	run(t, in, "kong/plugins/demo/handler.lua", `
local function access()
  ngx.log(ngx.ERR, "failed: ", 42, " ", nil, " ", true, " ", ngx.null)
end
access()
ngx.log(ngx.DEBUG, "not shown")
ngx.log(ngx.INFO, "shown")`)
	got := sink.all()
	want := []string{
		"error|[lua] handler.lua:3: access(): failed: 42 nil true null",
		"info|[lua] handler.lua:7: shown",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	msg := luaErr(t, in, `ngx.log(ngx.ERR, {})`)
	if !strings.Contains(msg, "bad argument #2 to 'log' (expected table to have __tostring metamethod)") {
		t.Fatalf("table arg: %s", msg)
	}
	if msg := luaErr(t, in, `ngx.log(99, "x")`); !strings.Contains(msg, "bad log level") {
		t.Fatalf("bad level: %s", msg)
	}
}

func TestNgxTime(t *testing.T) {
	in, _ := newShimState(t)
	fixed := time.Date(2010, 11, 18, 11, 27, 35, 123456789, time.UTC)
	in.Root.Now = func() time.Time { return fixed }
	cases := map[string]string{
		`return ngx.time()`:                                              "1290079655",
		`return string.format("%.3f", ngx.now())`:                        "1290079655.123",
		`return ngx.utctime()`:                                           "2010-11-18 11:27:35",
		`return ngx.http_time(1290079655)`:                               "Thu, 18 Nov 2010 11:27:35 GMT",
		`return ngx.cookie_time(1290079655)`:                             "Thu, 18-Nov-10 11:27:35 GMT",
		`return ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT")`:    "1290079655",
		`return ngx.parse_http_time("Thursday, 18-Nov-10 11:27:35 GMT")`: "1290079655",
		`return ngx.parse_http_time("Thu Nov 18 11:27:35 2010")`:         "1290079655",
		`return ngx.parse_http_time("nope")`:                             "nil",
		`ngx.update_time() return "ok"`:                                  "ok",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if got := str(t, in, `return ngx.today()`); len(got) != 10 || got[4] != '-' {
		t.Errorf("today = %q", got)
	}
}

func TestNgxSleepHonoursContext(t *testing.T) {
	in, _ := newShimState(t)
	start := time.Now()
	run(t, in, "s.lua", `ngx.sleep(0.02)`)
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("ngx.sleep returned early")
	}
	if msg := luaErr(t, in, `ngx.sleep(-1)`); !strings.Contains(msg, "invalid sleep duration") {
		t.Fatalf("negative sleep: %s", msg)
	}
}

// ngx.sleep raises ngx_lua's "API disabled in the context of ..." where
// ngx_lua cannot yield (header_filter, body_filter, log, balancer); it
// sleeps in the yieldable contexts, and in init_worker and init, where
// Kong's globalpatches.lua makes it a blocking sleep.
func TestNgxSleepContexts(t *testing.T) {
	in, _ := newShimState(t)
	refused := map[string]string{
		"log": "log_by_lua*", "header_filter": "header_filter_by_lua*",
		"body_filter": "body_filter_by_lua*", "balancer": "balancer_by_lua*",
	}
	for phase, name := range refused {
		in.Phase = phase
		if got, want := luaErr(t, in, `ngx.sleep(0)`), "test.lua:1: API disabled in the context of "+name; got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
	}
	// the duration is checked first, as ngx_lua does
	in.Phase = "log"
	if msg := luaErr(t, in, `ngx.sleep(-1)`); !strings.Contains(msg, "invalid sleep duration") {
		t.Errorf("negative sleep in log: %s", msg)
	}
	for _, phase := range []string{"rewrite", "access", "content", "timer", "ssl_cert", "init_worker", "init"} {
		in.Phase = phase
		if got := str(t, in, `ngx.sleep(0.001) return "slept"`); got != "slept" {
			t.Errorf("%s: %q", phase, got)
		}
	}
}

// The compiled-pattern cache holds at most lua_regex_cache_max_entries
// patterns (issue 14: patterns built from request data grew it without
// end); past it patterns still match, compiled on each call.
func TestRegexCacheIsBounded(t *testing.T) {
	in, sink := newShimState(t, "lua_regex_cache_max_entries", "8")
	run(t, in, "re.lua", `
		for i = 1, 100 do
			assert(ngx.re.find("abc" .. i, "c" .. i .. "$", "jo"))
		end
	`)
	if n := in.Root.re.Len(); n != 8 {
		t.Fatalf("cache holds %d patterns, want 8", n)
	}
	warned := 0
	for _, l := range sink.all() {
		if strings.Contains(l, "lua exceeding regex cache max entries (8)") {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("want one warning, got %d in %q", warned, sink.all())
	}
}
