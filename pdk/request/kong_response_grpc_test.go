package request

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/luahost/luahost/proxy"
)

// grpcHeaders checks a response's status, grpc-status, grpc-message
// ("<none>": absent), Content-Length and body.
func grpcHeaders(t *testing.T, what string, res *http.Response, body string, status int, gs, gm, cl, wantBody string) {
	t.Helper()
	got := func(name string) string {
		if v, ok := res.Header[http.CanonicalHeaderKey(name)]; ok {
			return strings.Join(v, ",")
		}
		return "<none>"
	}
	if res.StatusCode != status || got("grpc-status") != gs || got("grpc-message") != gm ||
		got("Content-Length") != cl || body != wantBody {
		t.Errorf("%s: %d grpc-status %q grpc-message %q content-length %q body %q; want %d %q %q %q %q",
			what, res.StatusCode, got("grpc-status"), got("grpc-message"), got("Content-Length"), body,
			status, gs, gm, cl, wantBody)
	}
}

// kong.response.exit to a gRPC request (HTTP/2, Content-Type
// application/grpc...): the HTTP status as given, grpc-status from
// HTTP_TO_GRPC_STATUS (else by the status's class, else 2) and its
// default grpc-message, no body (kong/pdk/response.lua send).
func TestKongResponseExitGRPCStatuses(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.response.exit(tonumber(kong.request.get_header("x-status")))`)
	for _, tc := range []struct {
		status int
		gs, gm string
	}{
		{200, "0", "OK"}, {400, "3", "InvalidArgument"}, {401, "16", "Unauthenticated"},
		{403, "7", "PermissionDenied"}, {404, "5", "NotFound"}, {409, "6", "AlreadyExists"},
		{429, "8", "ResourceExhausted"}, {499, "1", "Canceled"}, {500, "13", "Internal"},
		{501, "12", "Unimplemented"}, {503, "14", "Unavailable"}, {504, "4", "DeadlineExceeded"},
		// not in the table: by class
		{204, "0", "OK"}, {418, "3", "InvalidArgument"}, {502, "13", "Internal"}, {599, "13", "Internal"},
		{302, "2", "Unknown"},
	} {
		n := e.up.count()
		res, body := e.h2("POST", "/svc/M", "Content-Type", "application/grpc+proto", "X-Status", strconv.Itoa(tc.status))
		e.noErrors()
		cl := "0"
		if tc.status == 204 {
			cl = "<none>" // nginx sends none with a 204, nor does net/http
		}
		grpcHeaders(t, strconv.Itoa(tc.status), res, body, tc.status, tc.gs, tc.gm, cl, "")
		if ct := res.Header.Values("Content-Type"); len(ct) != 0 {
			t.Errorf("%d: Content-Type %q", tc.status, ct)
		}
		if e.up.count() != n {
			t.Errorf("%d: the upstream was called", tc.status)
		}
	}
}

// The body of kong.response.exit to a gRPC request whose response is not
// gRPC (no Content-Type): a string, or a table's message field, goes in
// grpc-message (replacing one set), the body is empty; a table without a
// message is dropped with a warning.
func TestKongResponseExitGRPCBody(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	grpc := []string{"Content-Type", "application/grpc"}
	for _, tc := range []struct {
		name, code string
		status     int
		gs, gm     string
	}{
		{"string", `kong.response.exit(200, "hello")`, 200, "0", "hello"},
		{"table message", `kong.response.exit(401, { message = "Hello" })`, 401, "16", "Hello"},
		{"message through __index", `kong.response.exit(403, setmetatable({}, { __index = { message = "meta" } }))`, 403, "7", "meta"},
		{"table without message", `kong.response.exit(401, { other = 1 })`, 401, "16", "Unauthenticated"},
		{"body replaces grpc-message", `kong.response.exit(200, "OK", { ["grpc-message"] = "REPLACE ME" })`, 200, "0", "OK"},
		{"Content-Length given: still 0", `kong.response.exit(200, "abc", { ["Content-Length"] = 3 })`, 200, "0", "abc"},
	} {
		e.on(PhaseAccess, tc.code)
		e.logs.mu.Lock()
		e.logs.lines = nil
		e.logs.mu.Unlock()
		res, body := e.h2("POST", "/svc/M", grpc...)
		e.noErrors()
		grpcHeaders(t, tc.name, res, body, tc.status, tc.gs, tc.gm, "0", "")
		e.logs.mu.Lock()
		logged := strings.Join(e.logs.lines, "\n")
		e.logs.mu.Unlock()
		warned := strings.Contains(logged, "[kong] [test] body was removed because table body encoding with gRPC is not supported")
		if warned != (tc.name == "table without message") {
			t.Errorf("%s: warning logged %v: %q", tc.name, warned, logged)
		}
	}
}

// A grpc-status or grpc-message the plugin set (before, or in exit's
// headers) is kept; with its own grpc-status Kong adds no grpc-message.
func TestKongResponseExitGRPCKeepsPluginStatus(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	grpc := []string{"Content-Type", "application/grpc"}
	e.on(PhaseAccess, `kong.response.set_header("grpc-status", "9") kong.response.exit(403)`)
	res, body := e.h2("POST", "/x", grpc...)
	e.noErrors()
	grpcHeaders(t, "set_header", res, body, 403, "9", "<none>", "0", "")

	e.on(PhaseRewrite, `kong.response.set_header("Grpc-Status", "10")`)
	e.on(PhaseAccess, `kong.response.exit(500, nil, { ["grpc-message"] = "custom" })`)
	res, body = e.h2("POST", "/x", grpc...)
	e.noErrors()
	grpcHeaders(t, "set in rewrite", res, body, 500, "10", "custom", "0", "")
	e.off(PhaseRewrite)

	e.on(PhaseAccess, `kong.response.exit(404, nil, { grpc_status = 12, ["grpc-message"] = "SHOW ME" })`)
	res, body = e.h2("POST", "/x", grpc...)
	e.noErrors()
	grpcHeaders(t, "exit's headers", res, body, 404, "12", "SHOW ME", "0", "")
}

// A response whose Content-Type is application/grpc (given to exit, or set
// before) is gRPC output, on any request: grpc-status and its default
// message, the body sent as it is; a table body raises.
func TestKongResponseExitGRPCOutput(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	for _, tc := range []struct {
		name, code string
		status     int
		gs, gm, cl string
		body       string
	}{
		{"explicit", `kong.response.exit(200, "hello", { content_type = "application/grpc" })`, 200, "0", "OK", "5", "hello"},
		{"implicit", `kong.response.set_header("Content-Type", "application/grpc") kong.response.exit(200, "hello")`, 200, "0", "OK", "5", "hello"},
		{"grpc-message kept", `kong.response.exit(200, "OK", { ["Content-Type"] = "application/grpc", ["grpc-message"] = "SHOW ME" })`, 200, "0", "SHOW ME", "2", "OK"},
		{"nil body", `kong.response.set_header("Content-Type", "application/grpc") kong.response.exit(401)`, 401, "16", "Unauthenticated", "0", ""},
		{"nil body, grpc-message kept", `kong.response.set_header("Content-Type", "application/grpc") kong.response.exit(200, nil, { ["grpc-message"] = "SHOW ME" })`, 200, "0", "SHOW ME", "0", ""},
	} {
		e.on(PhaseAccess, tc.code)
		res := e.get("/x")
		e.noErrors()
		hr := &http.Response{StatusCode: res.StatusCode(), Header: http.Header{}}
		for k, v := range res.Header.All() {
			hr.Header.Add(string(k), string(v))
		}
		grpcHeaders(t, tc.name, hr, string(res.Body()), tc.status, tc.gs, tc.gm, tc.cl, tc.body)
		if ct := string(res.Header.ContentType()); ct != "application/grpc" {
			t.Errorf("%s: Content-Type %q", tc.name, ct)
		}
	}
	for _, code := range []string{
		`kong.response.exit(401, { message = "I am special" }, { ["Content-Type"] = "application/grpc" })`,
		`kong.response.set_header("Content-Type", "application/grpc") kong.response.exit(401, {})`,
	} {
		e.clear()
		e.on(PhaseAccess, code)
		res := e.get("/x")
		if msg := e.err(PhaseAccess); !strings.HasSuffix(msg, "table body encoding with gRPC is not supported") || res.StatusCode() != 500 {
			t.Errorf("%s: %d %q", code, res.StatusCode(), msg)
		}
	}
}

// Not gRPC: Content-Type application/grpc over HTTP/1.1, HTTP/2 without
// it, or a response Content-Type that is not gRPC's (a header_filter exit
// on the upstream's text/plain) leave the response as for HTTP.
func TestKongResponseExitNotGRPC(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.response.exit(403, { message = "nope" })`)
	res := e.get("/x", "Content-Type", "application/grpc")
	e.noErrors()
	if res.StatusCode() != 403 || string(res.Body()) != `{"message":"nope"}` || res.Header.Peek("grpc-status") != nil {
		t.Errorf("HTTP/1.1: %d %q %q", res.StatusCode(), res.Body(), res.Header.Peek("grpc-status"))
	}
	hr, body := e.h2("POST", "/x", "Content-Type", "application/json")
	e.noErrors()
	if hr.StatusCode != 403 || body != `{"message":"nope"}` || hr.Header.Get("grpc-status") != "" ||
		hr.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("HTTP/2, JSON: %d %q %v", hr.StatusCode, body, hr.Header)
	}

	e.off(PhaseAccess)
	e.on(PhaseHeaderFilter, `kong.response.exit(403, "denied")`)
	hr, body = e.h2("POST", "/x", "Content-Type", "application/grpc")
	e.noErrors()
	if hr.StatusCode != 403 || body != "denied" || hr.Header.Get("grpc-status") != "" || hr.Header.Get("X-Upstream") != "yes" {
		t.Errorf("header_filter, upstream's text/plain: %d %q %v", hr.StatusCode, body, hr.Header)
	}
	// without the upstream's Content-Type it is gRPC: the body replaced
	e.on(PhaseHeaderFilter, `kong.response.clear_header("Content-Type") kong.response.exit(403, "denied")`)
	hr, body = e.h2("POST", "/x", "Content-Type", "application/grpc")
	e.noErrors()
	grpcHeaders(t, "header_filter, no Content-Type", hr, body, 403, "7", "denied", "0", "")
}

// kong.response.error to a gRPC request: Content-Type application/grpc,
// no body, grpc-status and its default grpc-message (the message is not
// sent); a Content-Type given to it is used as for HTTP.
func TestKongResponseErrorGRPC(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	grpc := []string{"Content-Type", "application/grpc", "Accept", "application/json"}
	for _, tc := range []struct {
		code   string
		status int
		gs, gm string
	}{
		{`kong.response.error(400)`, 400, "3", "InvalidArgument"},
		{`kong.response.error(401, "who?")`, 401, "16", "Unauthenticated"},
		{`kong.response.error(403, { message = "nope" })`, 403, "7", "PermissionDenied"},
		{`kong.response.error(429)`, 429, "8", "ResourceExhausted"},
		{`kong.response.error(502)`, 502, "13", "Internal"},
		{`kong.response.error(403, "x", { ["grpc-status"] = "16" })`, 403, "16", "<none>"},
	} {
		e.on(PhaseAccess, tc.code)
		res, body := e.h2("POST", "/svc/M", grpc...)
		e.noErrors()
		grpcHeaders(t, tc.code, res, body, tc.status, tc.gs, tc.gm, "0", "")
		if ct := res.Header.Values("Content-Type"); strings.Join(ct, ",") != "application/grpc" {
			t.Errorf("%s: Content-Type %q", tc.code, ct)
		}
	}
	e.on(PhaseAccess, `kong.response.error(403, "nope", { ["Content-Type"] = "text/plain" })`)
	res, body := e.h2("POST", "/svc/M", grpc...)
	e.noErrors()
	if res.StatusCode != 403 || !strings.HasPrefix(body, "nope\nrequest_id: ") || res.Header.Get("grpc-status") != "" {
		t.Errorf("Content-Type text/plain: %d %q %v", res.StatusCode, body, res.Header)
	}
	// not a gRPC request, Accept application/grpc: Kong's MIME type and
	// template for it are both "": no body, no Content-Type
	e.on(PhaseAccess, `kong.response.error(403)`)
	r1 := e.get("/x", "Accept", "application/grpc")
	e.noErrors()
	if r1.StatusCode() != 403 || len(r1.Body()) != 0 || r1.Header.Peek("Content-Type") != nil || r1.Header.Peek("grpc-status") != nil {
		t.Errorf("Accept application/grpc over HTTP/1.1: %d %q %q", r1.StatusCode(), r1.Body(), r1.Header.Peek("Content-Type"))
	}
}
