package request

import (
	"context"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"testing"

	"github.com/luahost/luahost/proxy"
)

func TestKongClient(t *testing.T) {
	trusted, _ := proxy.ParseTrustedIPs([]string{"127.0.0.0/8"})
	e := newEnv(t, proxy.Config{TrustedIPs: trusted})
	e.on(PhaseAccess, `
		local c = kong.client
		record("ip", c.get_ip())
		record("fwd_ip", c.get_forwarded_ip())
		record("port", c.get_port())
		record("fwd_port", c.get_forwarded_port())
		record("consumer0", c.get_consumer())
		c.authenticate({ id = "c1", username = "bob" }, { id = "cred1", consumer_id = "c1" })
		record("consumer", c.get_consumer().username)
		record("credential", c.get_credential().id)
		record("ctx_consumer", ngx.ctx.authenticated_consumer.id)
		record("protocol", c.get_protocol())
		record("trusted", kong.ip.is_trusted("127.1.2.3"))
		record("untrusted", kong.ip.is_trusted("192.168.0.1"))
		record("bad", kong.ip.is_trusted("nope"))
	`)
	e.on(PhaseLog, `record("log_consumer", kong.client.get_consumer().id)`)
	e.get("/c", "X-Real-IP", "1.2.3.5")
	e.noErrors()
	e.want("ip", "127.0.0.1", "fwd_ip", "1.2.3.5", "port", e.peerPort, "fwd_port", "nil", "consumer0", "nil",
		"consumer", "bob", "credential", "cred1", "ctx_consumer", "c1", "protocol", "http",
		"trusted", "true", "untrusted", "false", "bad", "false", "log_consumer", "c1")
}

func TestKongClientErrors(t *testing.T) {
	cases := []struct{ call, msg string }{
		{"kong.client.authenticate()", "either credential or consumer must be provided"},
		{"kong.client.authenticate(1)", "consumer must be a table or nil"},
		{"kong.client.authenticate(nil, 'x')", "credential must be a table or nil"},
		{"kong.client.load_consumer(1)", "consumer_id must be a string"},
		{"kong.client.load_consumer('bob')", "cannot load a consumer with an id that is not a uuid"},
	}
	e := newEnv(t, proxy.Config{})
	for _, c := range cases {
		t.Run(c.call, func(t *testing.T) {
			e.clear()
			e.on(PhaseAccess, "\n\n"+c.call)
			e.get("/")
			if got, want := e.err(PhaseAccess), "snippet:3: "+c.msg; got != want {
				t.Errorf("error %q, want %q", got, want)
			}
		})
	}
	e.clear()
	e.off(PhaseAccess)
	e.on(PhaseRewrite, `
		local ok, err = pcall(function() return kong.client.get_consumer() end)
		record("rw", err)
		local ok2, err2 = pcall(function() return kong.client.authenticate({}) end)
		record("rw_auth", err2)
		local ok3, err3 = pcall(function() return kong.router.get_route() end)
		record("rw_route", err3)
	`)
	e.get("/")
	e.noErrors()
	e.want("rw", "snippet:2: function cannot be called in rewrite phase (only in: access, response, header_filter, body_filter, log)",
		"rw_auth", "snippet:4: function cannot be called in rewrite phase (only in: access)",
		"rw_route", "snippet:6: function cannot be called in rewrite phase (only in: access, response, header_filter, body_filter, log)")
}

func TestKongClientLoadConsumer(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	// a stand-in kong.db.consumers: the binding calls it as Kong's does
	e.on(PhaseAccess, `
		kong.db = { consumers = {
			select = function(self, pk)
				if pk.id:lower() == "00000000-0000-0000-0000-00000000000a" then return { id = pk.id, username = "alice" } end
				return nil
			end,
			select_by_username = function(self, name)
				return { id = "by-name", username = name }
			end,
		} }
		record("by_id", kong.client.load_consumer("00000000-0000-0000-0000-00000000000A").username)
		record("by_name", kong.client.load_consumer("carol", true).id)
		record("miss", kong.client.load_consumer("00000000-0000-0000-0000-00000000000b"))
	`)
	e.get("/")
	e.noErrors()
	e.want("by_id", "alice", "by_name", "by-name", "miss", "nil")
}

func TestKongRouter(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		local r = kong.router.get_route()
		local s = kong.router.get_service()
		record("route_id", r.id) record("route_name", r.name) record("protocols", r.protocols)
		record("paths", r.paths) record("service_ref", r.service.id) record("strip", r.strip_path)
		record("service_id", s.id) record("service_name", s.name) record("host", s.host)
		record("same", kong.router.get_route() == ngx.ctx.route)
	`)
	e.on(PhaseLog, `record("log_route", kong.router.get_route().id)`)
	e.get("/r")
	e.noErrors()
	e.want("route_id", routeID, "route_name", "r1", "protocols", `{ "http", "https" }`, "paths", `{ "/" }`,
		"service_ref", serviceID, "strip", "false", "service_id", serviceID, "service_name", "s1",
		"host", "127.0.0.1", "same", "true", "log_route", routeID)
}

func TestKongNginxAndIP(t *testing.T) {
	e := newEnv(t, proxy.Config{}, "trusted_ips", "127.0.0.1")
	L := e.in.L
	if err := L.DoString(`
		record("sub", kong.nginx.get_subsystem())
		record("stats", type(kong.nginx.get_statistics().total_requests))
		record("conf_trusted", kong.ip.is_trusted("127.0.0.1"))
		record("conf_untrusted", kong.ip.is_trusted("127.0.0.2"))
	`); err != nil {
		t.Fatal(err)
	}
	e.on(PhaseAccess, `kong.nginx.set_ctx("k", "v") record("ctx", kong.nginx.get_ctx("k")) record("raw", ngx.ctx.k)`)
	e.get("/")
	e.noErrors()
	e.want("sub", "http", "stats", "number", "conf_trusted", "true", "conf_untrusted", "false", "ctx", "v", "raw", "v")
}

// With a database, ctx.route and ctx.service are the rows of kong.db (every
// field Kong's entity has), not only what the router keeps.
func TestKongRouterFromDB(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	ctx := context.Background()
	if _, err := db.DAO("services").Insert(ctx, map[string]any{"id": serviceID, "name": "s1", "host": "127.0.0.1",
		"port": float64(e.up.port), "tags": []any{"t1"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DAO("routes").Insert(ctx, map[string]any{"id": routeID, "name": "r1", "paths": []any{"/"},
		"service": map[string]any{"id": serviceID}}, nil); err != nil {
		t.Fatal(err)
	}
	e.in.Root.DB = db
	e.on(PhaseAccess, `
		local r, s = kong.router.get_route(), kong.router.get_service()
		record("created", type(r.created_at)) record("regex_priority", r.regex_priority)
		record("tags", s.tags) record("snis", r.snis) record("svc", r.service.id)
		record("path", s.path)
	`)
	e.get("/db")
	e.noErrors()
	e.want("created", "number", "regex_priority", "0", "tags", `{ "t1" }`, "snis", "nil", "svc", serviceID, "path", "nil")
}

// Kong's t/01-pdk/05-client/02-get_forwarded_ip.t and
// 04-get_forwarded_port.t: nginx's realip module takes the address, and
// its port when it has one, from the real IP header of a trusted peer.
func TestKongClientForwardedAddr(t *testing.T) {
	all, _ := proxy.ParseTrustedIPs([]string{"0.0.0.0/0", "::/0"})
	for _, c := range []struct {
		header, value string
		trusted       bool
		ip, port      string
	}{
		{"X-Real-IP", "10.0.0.1:1234", true, "10.0.0.1", "1234"},
		{"X-Real-IP", "10.0.0.1", true, "10.0.0.1", "nil"},
		{"X-Forwarded-For", "10.0.0.1:1234", true, "10.0.0.1", "1234"},
		{"X-Forwarded-For", "10.0.0.1", true, "10.0.0.1", "nil"},
		{"X-Forwarded-For", "9.9.9.9, 10.0.0.2", true, "10.0.0.2", "nil"},
		{"X-Forwarded-For", "[::1]:99", true, "::1", "99"},
		{"X-Real-IP", "10.0.0.1:1234", false, "127.0.0.1", "peer"},
		{"X-Forwarded-For", "10.0.0.1:1234", false, "127.0.0.1", "peer"},
	} {
		cfg := proxy.Config{RealIPHeader: c.header}
		if c.trusted {
			cfg.TrustedIPs = all
		}
		e := newEnv(t, cfg)
		e.on(PhaseAccess, `record("ip", kong.client.get_forwarded_ip()) record("port", kong.client.get_forwarded_port())
			record("peer", kong.client.get_ip() .. ":" .. kong.client.get_port())`)
		e.get("/", c.header, c.value)
		e.noErrors()
		if c.port == "peer" {
			c.port = e.peerPort
		}
		if ip, port := e.rec("ip"), e.rec("port"); ip != c.ip || port != c.port {
			t.Errorf("%s: %s (trusted %v): %s %s, want %s %s", c.header, c.value, c.trusted, ip, port, c.ip, c.port)
		}
		e.want("peer", "127.0.0.1:"+e.peerPort)
	}
}

// Kong's t/01-pdk/05-client/09-get_protocol.t, tests 4 to 8 and 11 (the
// Route of the env has protocols http and https).
func TestKongClientGetProtocol(t *testing.T) {
	trusted, _ := proxy.ParseTrustedIPs([]string{"127.0.0.0/8"})
	for _, c := range []struct {
		trusted     bool
		terminated  string
		proto, want string
	}{
		{true, "true", "https", "https"},
		{true, "false", "https", "http"},
		{false, "true", "https", "http"},
		{true, "true", "http", "http"},
		{true, "true", "", "http"},
		{true, "true", "https, https", "nil Only one X-Forwarded-Proto header allowed"},
	} {
		cfg := proxy.Config{}
		if c.trusted {
			cfg.TrustedIPs = trusted
		}
		e := newEnv(t, cfg)
		e.on(PhaseAccess, `local p, err = kong.client.get_protocol(`+c.terminated+`)
			record("p", err and (tostring(p) .. " " .. err) or p)`)
		var hdrs []string
		if c.proto != "" {
			hdrs = []string{"X-Forwarded-Proto", c.proto}
		}
		e.get("/", hdrs...)
		e.noErrors()
		if got := e.rec("p"); got != c.want {
			t.Errorf("%+v: %q", c, got)
		}
	}
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `record("single", kong.client.get_protocol())`)
	e.get("/cap/1/a")
	e.noErrors()
	e.want("single", "http")
}

// Over the ssl listener: $scheme, $https, $ssl_server_name and the PDK's
// scheme follow the TLS connection; a plain one has no ssl variables.
func TestTLSRequestVars(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("scheme", ngx.var.scheme)
		record("https", ngx.var.https)
		record("sni", tostring(ngx.var.ssl_server_name))
		record("proto", tostring(ngx.var.ssl_protocol))
		record("req_scheme", kong.request.get_scheme())
		record("fwd_scheme", kong.request.get_forwarded_scheme())
		record("client_proto", kong.client.get_protocol())
	`)
	raw := "GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n"
	if res := e.serveTLS(raw, "api.example.com"); res.StatusCode() != 200 {
		t.Fatalf("tls: %d", res.StatusCode())
	}
	e.noErrors()
	e.want("scheme", "https", "https", "on", "sni", "api.example.com", "proto", "TLSv1.3", "req_scheme", "https",
		"fwd_scheme", "https", "client_proto", "https")
	e.clear()
	if res := e.serve(raw); res.StatusCode() != 200 {
		t.Fatalf("plain: %d", res.StatusCode())
	}
	e.want("scheme", "http", "https", "", "sni", "nil", "proto", "nil", "req_scheme", "http", "fwd_scheme", "http",
		"client_proto", "http")
}
