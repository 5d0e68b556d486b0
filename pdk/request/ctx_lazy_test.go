package request

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/proxy"
)

// A request's ngx.ctx is made when Lua first reads it (pdk/ctx_lazy.go):
// what Kong's runloop and kong.client.authenticate put in it before that
// is all there, in order, once it is made; a plugin assigning ngx.ctx
// replaces it all.
func TestLazyNgxCtx(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.in.L.SetGlobal("ctx_made", e.in.L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LBool(e.in.CtxMade()))
		return 1
	}))
	e.on(PhaseAccess, `
		kong.client.authenticate({ id = "c1" }, { id = "k1" })
		record("consumer", kong.client.get_consumer().id)
		record("credential", kong.client.get_credential().id)
		record("route", kong.router.get_route().id)
		record("made in access", ctx_made())
	`)
	e.on(PhaseHeaderFilter, `
		record("made before", ctx_made())
		local ctx = ngx.ctx
		record("made after", ctx_made())
		record("same", rawequal(ctx, ngx.ctx))
		record("ctx consumer", ctx.authenticated_consumer.id)
		record("ctx route", ctx.route.id)
		record("ctx phase", ctx.KONG_PHASE)
		record("router_matches", type(ctx.router_matches))
		local keys = {}
		for k in pairs(ctx) do
			if type(k) == "string" then keys[#keys + 1] = k end
		end
		record("keys", table.concat(keys, ","))
		ctx.mine = "kept"
	`)
	e.on(PhaseLog, `
		record("log mine", ngx.ctx.mine)
		record("log consumer", kong.client.get_consumer().id)
	`)
	if res := e.get("/lazy"); res.StatusCode() != 200 {
		t.Fatalf("status %d", res.StatusCode())
	}
	for k, want := range map[string]string{
		"consumer": "c1", "credential": "k1", "route": routeID, "made in access": "false",
		"made before": "false", "made after": "true", "same": "true",
		"ctx consumer": "c1", "ctx route": routeID, "ctx phase": "512", "router_matches": "table",
		"keys":     "KONG_PHASE,route,service,router_matches,authenticated_consumer,authenticated_credential,KONG_PROXIED",
		"log mine": "kept", "log consumer": "c1",
	} {
		if got := e.rec(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, p := range []Phase{PhaseAccess, PhaseHeaderFilter, PhaseLog} {
		if err := e.err(p); err != "" {
			t.Errorf("%v: %s", p, err)
		}
	}

	// the next request starts from nothing; assigning ngx.ctx replaces
	// what waited in it (Kong's own values included, as in OpenResty)
	e.clear()
	e.off(PhaseHeaderFilter)
	e.on(PhaseAccess, `
		record("old mine", tostring(ngx.ctx.mine))
		kong.client.authenticate({ id = "c2" })
		ngx.ctx = { x = 1 }
		record("after assign", tostring(kong.client.get_consumer()))
		kong.ctx.shared.y = 2
	`)
	e.on(PhaseLog, `
		record("log x", ngx.ctx.x)
		record("log y", kong.ctx.shared.y)
		record("log route", tostring(ngx.ctx.route))
	`)
	e.get("/lazy")
	for k, want := range map[string]string{
		"old mine": "nil", "after assign": "nil", "log x": "1", "log y": "2", "log route": "nil",
	} {
		if got := e.rec(k); got != want {
			t.Errorf("second request: %s = %q, want %q", k, got, want)
		}
	}

	// assigned while not made yet (ngx's __newindex): the same
	e.clear()
	e.on(PhaseAccess, `
		kong.client.authenticate({ id = "c5" })
		ngx.ctx = { v = 5 }
		record("lazy assign consumer", tostring(kong.client.get_consumer()))
		record("lazy assign same", rawequal(ngx.ctx, rawget(ngx, "ctx")))
	`)
	e.on(PhaseLog, `record("lazy assign v", ngx.ctx.v)`)
	e.get("/lazy")
	for k, want := range map[string]string{"lazy assign consumer": "nil", "lazy assign same": "true", "lazy assign v": "5"} {
		if got := e.rec(k); got != want {
			t.Errorf("lazy assign: %s = %q, want %q", k, got, want)
		}
	}

	// a rawset of ngx.ctx (no __newindex) is found when the phase ends
	e.clear()
	e.on(PhaseAccess, `
		kong.client.authenticate({ id = "c4" })
		rawset(ngx, "ctx", { w = 3 })
	`)
	e.on(PhaseLog, `
		record("rawset w", ngx.ctx.w)
		record("rawset consumer", tostring(kong.client.get_consumer()))
	`)
	e.get("/lazy")
	for k, want := range map[string]string{"rawset w": "3", "rawset consumer": "nil"} {
		if got := e.rec(k); got != want {
			t.Errorf("rawset request: %s = %q, want %q", k, got, want)
		}
	}

	// between requests (a worker event's handler, a timer), after one
	// whose ngx.ctx was never made: a table, none of the request's values
	e.clear()
	e.off(PhaseLog)
	e.on(PhaseAccess, `kong.client.authenticate({ id = "c3" })`)
	e.get("/lazy")
	if err := e.in.L.DoString(`
		record("between", type(ngx.ctx) .. " " .. tostring(ngx.ctx.authenticated_consumer))
		kong.ctx.shared.z = 1
		record("between shared", tostring(kong.ctx.shared.z))`); err != nil {
		t.Fatal(err)
	}
	if got := e.rec("between"); got != "table nil" {
		t.Errorf("ngx.ctx between requests: %q", got)
	}
	if got := e.rec("between shared"); got != "1" {
		t.Errorf("kong.ctx.shared between requests: %q", got)
	}
}

// A header value read again (the same token on every request) is the same
// Lua string, handed out without allocating, as LuaJIT interns strings.
func TestGetHeaderInterned(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	var allocs float64
	e.in.L.SetGlobal("allocs_of", e.in.L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		allocs = testing.AllocsPerRun(200, func() {
			if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
				t.Error(err)
			}
		})
		return 0
	}))
	e.on(PhaseAccess, `
		record("token", kong.request.get_header("x-api-token"))
		record("var", ngx.var.http_x_api_token)
		allocs_of(function() local a = kong.request.get_header("X-Api-Token") end)
	`)
	e.get("/", "X-Api-Token", "secret-1")
	if got := e.rec("token"); got != "secret-1" {
		t.Fatalf("token %q", got)
	}
	if got := e.rec("var"); got != "secret-1" {
		t.Fatalf("ngx.var %q", got)
	}
	if err := e.err(PhaseAccess); err != "" {
		t.Fatal(err)
	}
	if allocs > 0 {
		t.Errorf("reading a header value again: %.1f allocations, want 0", allocs)
	}
}
