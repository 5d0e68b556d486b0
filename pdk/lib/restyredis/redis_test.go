package restyredis_test

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/pdktest"
)

// startRedis runs a throwaway redis-server on a free port and returns its
// port. Without the binary the test is skipped on a developer's machine
// but fails in CI (CI=true), where scripts/test.sh installs it: a test
// that silently skips there proves nothing.
func startRedis(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not installed (CI=true: scripts/test.sh installs it)")
		}
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return port
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	t.Fatal("redis-server did not start")
	return 0
}

func TestRestyRedis(t *testing.T) {
	port := startRedis(t)
	in, _ := pdktest.New(t)
	p := strconv.Itoa(port)
	cases := []struct{ src, want string }{
		{`local red = require("resty.redis"):new()
		  red:set_timeouts(1000, 1000, 1000)
		  assert(red:connect("127.0.0.1", ` + p + `))
		  local out = {}
		  out[#out+1] = red:get_reused_times()
		  out[#out+1] = red:select(1)
		  out[#out+1] = red:set("k", "v")
		  out[#out+1] = red:get("k")
		  out[#out+1] = tostring(red:get("missing") == ngx.null)
		  out[#out+1] = red:incrby("n", 5)
		  out[#out+1] = red:expire("n", 10)
		  local ok, err = red:incr("k")
		  out[#out+1] = tostring(ok) .. ":" .. err
		  out[#out+1] = red:eval("return ARGV[1] .. KEYS[1]", 1, "key", "arg")
		  local list = red:mget({ "k", "missing" }, "n")
		  out[#out+1] = list[1] .. "|" .. tostring(list[2] == ngx.null) .. "|" .. list[3]
		  assert(red:set_keepalive(10000, 10) == 1)
		  return table.concat(out, ",")`,
			"0,OK,OK,v,true,5,1,false:ERR value is not an integer or out of range,argkey,v|true|5"},
		{`local red = require("resty.redis"):new()
		  assert(red:connect("127.0.0.1", ` + p + `))
		  local reused = red:get_reused_times()
		  red:init_pipeline()
		  red:select(1)
		  red:incrby("p", 2)
		  red:hget("k", "f")
		  red:get("k")
		  local res = assert(red:commit_pipeline())
		  red:close()
		  return reused .. "," .. res[1] .. "," .. res[2] .. "," .. tostring(res[3][1]) .. ":" .. res[3][2]:sub(1, 9) .. "," .. res[4]`,
			"1,OK,2,false:WRONGTYPE,v"},
		{`local red = require("resty.redis"):new()
		  local ok, err = red:get("x")
		  local ok2, err2 = red:commit_pipeline()
		  return tostring(ok) .. ":" .. err .. "," .. tostring(ok2) .. ":" .. err2`,
			"nil:not initialized,nil:no pipeline"},
	}
	// set_timeout(nil) (Kong's rate-limiting with no redis.timeout) and 0
	// are ngx_lua's default timeouts; a negative one raises
	cases = append(cases, struct{ src, want string }{`local red = require("resty.redis"):new()
		  red:set_timeout(nil)
		  assert(red:connect("127.0.0.1", ` + p + `))
		  red:set_timeouts(0, nil, 500)
		  local pong = red:ping()
		  red:close()
		  local ok, err = pcall(red.set_timeout, red, -1)
		  return pong .. " " .. tostring(ok) .. " " .. tostring(err):match("bad timeout value")`, "PONG false bad timeout value"})
	for _, c := range cases {
		if got := pdktest.Str(t, in, c.src); got != c.want {
			t.Errorf("%s\n= %s, want %s", c.src, got, c.want)
		}
	}
	// A refused connection.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	free := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	got := pdktest.Str(t, in, `local red = require("resty.redis"):new()
		local ok, err = red:connect("127.0.0.1", `+free+`) return tostring(ok) .. ":" .. err`)
	if got != "nil:connection refused" {
		t.Errorf("refused: %s", got)
	}
}

// new() raises ngx_lua's "API disabled in the context of ..." where
// lua-resty-redis's own new() would (it makes its cosocket with
// ngx.socket.tcp()): header_filter, body_filter, log, init_worker; a
// timer or access gets a client.
func TestRedisNewContexts(t *testing.T) {
	in, _ := pdktest.New(t)
	refused := map[string]string{
		"log": "log_by_lua*", "header_filter": "header_filter_by_lua*",
		"body_filter": "body_filter_by_lua*", "init_worker": "init_worker_by_lua*",
	}
	for phase, name := range refused {
		in.Phase = phase
		if got, want := pdktest.LuaErr(t, in, `require("resty.redis"):new()`), "test.lua:1: API disabled in the context of "+name; got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
	}
	for _, phase := range []string{"timer", "access"} {
		in.Phase = phase
		if got := pdktest.Str(t, in, `return type(require("resty.redis"):new())`); got != "userdata" {
			t.Errorf("%s: %q", phase, got)
		}
	}
}

// A table argument that holds itself, or an array shared 2^40 ways, is
// refused (nil and a message) instead of flattened until the Go stack or
// memory runs out; a plain nested array is still flattened.
func TestRedisCyclicArguments(t *testing.T) {
	in, _ := pdktest.New(t)
	got := pdktest.Str(t, in, `
		local red = require("resty.redis"):new()
		red:init_pipeline()
		local cyc = { "a" } cyc[2] = cyc
		local dag = { "x" } for _ = 1, 40 do dag = { dag, dag } end
		local r = {}
		for _, v in ipairs({ cyc, dag, { "k", { "v", { "w" } } } }) do
			local ok, err = red:set(v)
			r[#r + 1] = tostring(ok) .. ":" .. tostring(err)
		end
		return table.concat(r, "|")`)
	if want := "nil:table nested too deeply|nil:too many arguments|nil:nil"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
