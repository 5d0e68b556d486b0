package request

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/proxy"
)

func TestKongLogSerialize(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		kong.client.authenticate({ id = "c1", username = "bob" }, { id = "cred1", consumer_id = "c1" })
		kong.log.set_serialize_value("request.headers.authorization", "kept")
		kong.log.set_serialize_value("custom.deep.value", 4)
		kong.log.set_serialize_value("my\\.dotted", 5)
		kong.log.set_serialize_value("response.status", 1, { mode = "add" })
		kong.log.set_serialize_value("missing.x", 1, { mode = "replace" })
		kong.log.set_serialize_value("upstream_uri", "/replaced", { mode = "replace" })
	`)
	e.on(PhaseLog, `
		local s = kong.log.serialize()
		record("uri", s.request.uri)
		record("url", s.request.url)
		record("method", s.request.method)
		record("qs", s.request.querystring)
		record("auth", s.request.headers.authorization)
		record("proxy_auth", s.request.headers["proxy-authorization"])
		record("size", type(s.request.size))
		record("id", #s.request.id)
		record("status", s.response.status)
		record("resp_hdr", s.response.headers["x-upstream"])
		record("upstream_uri", s.upstream_uri)
		record("upstream_status", s.upstream_status)
		record("route", s.route.id)
		record("route_copy", s.route ~= ngx.ctx.route)
		record("service", s.service.name)
		record("consumer", s.consumer.username)
		record("entity", s.authenticated_entity)
		record("client_ip", s.client_ip)
		record("source", s.source)
		record("lat", type(s.latencies.kong) .. type(s.latencies.proxy) .. type(s.latencies.request) .. s.latencies.receive)
		record("tries", #s.tries)
		record("started", type(s.started_at))
		record("custom", s.custom.deep.value)
		record("dotted", s["my.dotted"])
		record("missing", s.missing)
	`)
	e.get("/s?x=1", "Proxy-Authorization", "p")
	e.noErrors()
	e.want("uri", "/s?x=1", "url", "http://example.com:"+e.srvPort+"/s?x=1", "method", "GET", "qs", "{\n  x = \"1\"\n}",
		"auth", "kept", "proxy_auth", "REDACTED", "size", "number", "id", "32", "status", "200",
		"resp_hdr", "yes", "upstream_uri", "/replaced", "upstream_status", "200", "route", routeID,
		"route_copy", "true", "service", "s1", "consumer", "bob",
		"entity", "{\n  consumer_id = \"c1\",\n  id = \"cred1\"\n}", "client_ip", "127.0.0.1", "source", "upstream",
		"lat", "numbernumbernumber0", "tries", "1", "started", "number", "custom", "4", "dotted", "5", "missing", "nil")
}

func TestKongLogSerializeErrors(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("key", select(2, pcall(function() kong.log.set_serialize_value(1, 1) end)))
		record("mode", select(2, pcall(function() kong.log.set_serialize_value("a", 1, { mode = "x" }) end)))
		record("phase", select(2, pcall(function() kong.log.serialize() end)))
		kong.log.set_serialize_value("bad", { f = function() end })
	`)
	e.on(PhaseLog, `record("value", select(2, pcall(function() kong.log.serialize() end)))`)
	e.on(PhaseBodyFilter, `kong.response.exit(200)`)
	e.get("/")
	e.want("key", "snippet:2: key must be a string", "mode", "snippet:3: mode must be 'set', 'add' or 'replace'",
		"phase", "snippet:4: function cannot be called in access phase (only in: log)",
		"value", "snippet:1: value must be nil, a number, string, boolean or a non-self-referencial table containing numbers, string and booleans")
	if got := e.err(PhaseBodyFilter); got != "snippet:1: function cannot be called in body_filter phase (only in: rewrite, access, balancer, response, header_filter, error, admin_api)" {
		t.Errorf("%q", got)
	}
}

// A balanced request (kong.service.set_target to an upstream's name)
// serializes each try, the failed one with its state and code, and
// ngx.var.upstream_addr lists them.
func TestKongLogSerializeBalancerTries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	reg := &balancer.Registry{}
	t.Cleanup(reg.Close)
	e := newEnv(t, proxy.Config{Balancer: reg})
	up := map[string]any{"id": "u1", "name": "my-upstream", "algorithm": "least-connections"}
	tg := func(id, target string, at float64) map[string]any {
		return map[string]any{"id": id, "target": target, "weight": float64(100), "created_at": at,
			"upstream": map[string]any{"id": "u1"}}
	}
	live := "127.0.0.1:" + strconv.Itoa(e.up.port)
	// least-connections breaks the tie by the targets' order: the dead one first
	reg.Rebuild(context.Background(), []map[string]any{up}, []map[string]any{tg("t1", dead, 1), tg("t2", live, 2)})
	e.on(PhaseAccess, `kong.service.set_target("my-upstream", 80)`)
	e.on(PhaseLog, `
		local s = kong.log.serialize()
		record("tries", #s.tries)
		record("first", s.tries[1].ip .. ":" .. s.tries[1].port .. " " .. s.tries[1].state .. " " .. s.tries[1].code)
		record("second", s.tries[2].ip .. ":" .. s.tries[2].port .. " " .. tostring(s.tries[2].state))
		record("start", type(s.tries[2].balancer_start) .. type(s.tries[2].balancer_latency))
		record("addr", ngx.var.upstream_addr)
	`)
	if res := e.get("/s"); res.StatusCode() != 200 {
		t.Fatalf("status %d", res.StatusCode())
	}
	e.noErrors()
	e.want("tries", "2", "first", dead+" failed 502", "second", live+" nil", "start", "numbernumber",
		"addr", dead+", "+live)
}

// set_serialize_value and serialize are pdk/request's in every kong.log
// facility: the plugin's and those of kong.log.new (Kong's new_log gives
// each the same two functions).
func TestKongLogSerializeEveryFacility(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.log.new("other").set_serialize_value("via_new", 1)`)
	e.on(PhaseLog, `
		local l = kong.log.new("x", "%message")
		record("via_new", l.serialize().via_new)
		record("plugin", kong.log.serialize().request.method)
		record("same", l.serialize == kong.log.serialize)`)
	e.get("/s")
	e.noErrors()
	e.want("via_new", "1", "plugin", "GET", "same", "true")
}

// Tables that hold themselves, nest deep or share a sub-table 2^40 ways
// reach kong.log.serialize (as serialize values and as the context's
// route), ngx.say and kong.response.exit: each ends as Kong does (refused
// value, cycle-aware copy, Lua errors) instead of a Go stack overflow that
// kills the process or a walk of 2^40 steps.
func TestCyclicTablesInARequest(t *testing.T) {
	const tables = `
		local cyc = { 1, "x" } cyc[3] = cyc cyc.self = cyc
		local deep = { 1 } for _ = 1, 1000 do deep = { deep, k = "v" } end
		local dag = { "leaf" } for _ = 1, 40 do dag = { dag, dag, a = dag } end
	`
	// a small budget: the output of dag is refused at 8 MB
	e := newEnv(t, proxy.Config{}, "lua_memory_budget", "8m")
	e.on(PhaseAccess, tables+`
		ngx.ctx.saved = { cyc = cyc, deep = deep, dag = dag }
		local function msg(f, ...)
			return (select(2, pcall(f, ...)):gsub("^snippet:%d+: ", ""))
		end
		for _, v in ipairs({ "cyc", "deep", "dag" }) do
			record("say_" .. v, msg(ngx.say, ngx.ctx.saved[v]))
			record("exit_" .. v, msg(kong.response.exit, 200, ngx.ctx.saved[v]))
		end
		ngx.ctx.route = cyc
	`)
	e.on(PhaseLog, `
		local s = kong.log.serialize()
		record("route", tostring(s.route ~= ngx.ctx.route and s.route.self == s.route and s.route[3] == s.route))
		ngx.ctx.route = ngx.ctx.saved.deep
		record("deep_route", (select(2, pcall(kong.log.serialize)):gsub("^snippet:%d+: ", "")))
		ngx.ctx.route = nil
		for _, v in ipairs({ "cyc", "deep", "dag" }) do
			ngx.ctx.serialize_values = nil
			kong.log.set_serialize_value("x", ngx.ctx.saved[v])
			record("value_" .. v, tostring((pcall(kong.log.serialize))))
		end
	`)
	e.get("/")
	const nested = "table nested too deeply"
	const excessive = "body encoding failed while flushing response: Cannot serialise, excessive nesting (1001)"
	e.want("say_cyc", nested, "say_deep", nested, "say_dag", "not enough memory",
		"exit_cyc", excessive, "exit_deep", excessive, "exit_dag", "not enough memory",
		"route", "true", "deep_route", "stack overflow",
		"value_cyc", "false", "value_deep", "false", "value_dag", "false")
}

// A request a plugin ends in access (request-termination) was routed
// but not proxied: Kong's access.before had made the balancer data, so
// tries is an empty array that cjson encodes as [] (Kong #6390); an
// unrouted request has none.
func TestKongLogSerializeTriesNotProxied(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `if kong.request.get_path() == "/exit" then kong.response.exit(200, "bye") end`)
	e.on(PhaseLog, `
		local s = kong.log.serialize()
		record(kong.request.get_path(), require("cjson").encode({ tries = s.tries }))`)
	e.get("/exit")
	e.noErrors()
	e.want("/exit", `{"tries":[]}`)
}
