package request

import (
	"testing"

	"github.com/luahost/luahost/proxy"
)

// Every binding called with odd arguments in every phase raises a Lua
// error or answers; none fails inside Go (a Go runtime error would show
// as "runtime error" or "invalid memory address").
func TestSweepOddArguments(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	// exits end the handler: keep them out of the sweep, they have their
	// own tests
	noExit := `
		for _, k in ipairs({ "get_status", "get_header", "get_headers", "get_source", "set_status", "set_header",
			"add_header", "clear_header", "set_headers", "get_raw_body", "set_raw_body" }) do
			local f = kong.response[k]
			local ok, e = pcall(f, "x", {})
			local ok2, e2 = pcall(f, {}, "x")
			for _, m in ipairs({ tostring(e), tostring(e2) }) do
				if m:find("runtime error", 1, true) then error(m) end
			end
		end
	`
	for _, p := range []Phase{PhaseRewrite, PhaseAccess, PhaseHeaderFilter, PhaseBodyFilter, PhaseLog} {
		e.on(p, "local PHASE = '"+phaseName(p)+"'\n"+sweepSrc+noExit)
	}
	e.get("/sweep?a=1", "X-A", "1")
	for _, p := range []Phase{PhaseRewrite, PhaseAccess, PhaseHeaderFilter, PhaseBodyFilter, PhaseLog} {
		if msg := e.err(p); msg != "" {
			t.Errorf("%s: %s", phaseName(p), msg)
		}
		if got := e.rec(phaseName(p)); got != "" {
			t.Errorf("%s: Go errors:\n%s", phaseName(p), got)
		}
	}
}

// The same outside a request: the Admin API's content phase, init_worker,
// a timer.
func TestSweepOutsideRequest(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	for _, ph := range []string{"content", "init_worker", "timer"} {
		e.in.Phase = ph
		src := "local PHASE = '" + ph + "'\n" + sweepSrc + `
			for _, k in ipairs({ "get_status", "get_header", "get_headers", "get_source", "set_status", "set_header",
				"add_header", "clear_header", "set_headers", "get_raw_body", "set_raw_body" }) do
				local ok, e = pcall(kong.response[k], "x", {})
				if not ok and tostring(e):find("runtime error", 1, true) then error(e) end
			end`
		if err := e.in.L.DoString(src); err != nil {
			t.Errorf("%s: %v", ph, err)
		}
		if got := e.rec(ph); got != "" {
			t.Errorf("%s: Go errors:\n%s", ph, got)
		}
	}
}

// sweepSrc calls every non-exiting binding with odd arguments and records,
// under PHASE, the errors that came from Go rather than from a check.
const sweepSrc = `
		local args = { {}, { 1 }, { "x" }, { {} }, { true }, { "x", {} }, { 200, 1, 1 }, { -1 }, { 1e300 },
			{ "x", "y", "z" }, { {}, {}, {} }, { function() end }, { ngx.null } }
		local bad = {}
		local function try(name, f)
			for _, a in ipairs(args) do
				local ok, err = pcall(f, unpack(a))
				if not ok then
					err = tostring(err)
					if err:find("runtime error", 1, true) or err:find("invalid memory", 1, true) or err:find("goroutine", 1, true) then
						bad[#bad + 1] = name .. ": " .. err
					end
				end
			end
		end
		for _, ns in ipairs({ "request", "client", "router", "nginx", "ip" }) do
			for k, f in pairs(kong[ns]) do try("kong." .. ns .. "." .. k, f) end
		end
		for _, ns in ipairs({ "request", "response" }) do
			for k, f in pairs(kong.service[ns]) do
				try("kong.service." .. ns .. "." .. k, f)
			end
		end
		for k, f in pairs(kong.service) do
			if type(f) == "function" then try("kong.service." .. k, f) end
		end
		for k, f in pairs(ngx.req) do try("ngx.req." .. k, f) end
		for k, f in pairs(ngx.resp) do try("ngx.resp." .. k, f) end
		try("ngx.var", function(k, v) local _ = ngx.var[k]; if v then ngx.var[k] = v end end)
		try("ngx.header", function(k, v) local _ = ngx.header[k]; ngx.header[k] = v end)
		try("ngx.arg", function(k, v) local _ = ngx.arg[k]; ngx.arg[k] = v end)
		try("serialize", kong.log.serialize)
		try("set_serialize_value", kong.log.set_serialize_value)
		record(PHASE, table.concat(bad, "\n"))
	`
