package restyhttp_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestRestyHTTPRequestURI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			// answers only once the client gave up (its timeout), with a
			// long guard against a client that never does
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Multi", "1")
		w.Header().Add("X-Multi", "2")
		w.Header().Set("X-Echo-Method", r.Method)
		w.WriteHeader(201)
		io.WriteString(w, r.URL.RequestURI()+"|"+r.Header.Get("X-Custom")+"|"+string(b))
	}))
	defer srv.Close()
	in, _ := pdktest.New(t)
	got := pdktest.Str(t, in, `local http = require "resty.http"
		local c = http.new()
		c:set_timeouts(1000, 1000, 1000)
		local res = assert(c:request_uri("`+srv.URL+`/p?a=1", { method = "POST", body = "hello",
		  headers = { ["X-Custom"] = "v" } }))
		return res.status .. "," .. res.reason .. "," .. res.body .. "," .. res.headers["x-echo-method"] .. "," ..
		  res.headers.x_echo_method .. "," .. table.concat(res.headers["X-Multi"], "+") .. "," .. tostring(res.has_body)`)
	if want := "201,Created,/p?a=1|v|hello,POST,POST,1+2,true"; got != want {
		t.Errorf("request_uri = %s, want %s", got, want)
	}
	got = pdktest.Str(t, in, `local res = assert(require("resty.http").new():request_uri("`+srv.URL+`/x", { path = "/q", query = { k = "a b" } }))
		return res.body`)
	if want := "/q?k=a+b||"; got != want {
		t.Errorf("path/query = %s, want %s", got, want)
	}
	got = pdktest.Str(t, in, `local c = require("resty.http").new() c:set_timeout(100)
		local res, err = c:request_uri("`+srv.URL+`/slow") return tostring(res) .. "|" .. err`)
	if got != "nil|timeout" {
		t.Errorf("timeout = %s", got)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	got = pdktest.Str(t, in, `local res, err = require("resty.http").new():request_uri("http://127.0.0.1:`+port+`/") return tostring(res) .. "|" .. err`)
	if got != "nil|connection refused" {
		t.Errorf("refused = %s", got)
	}
	got = pdktest.Str(t, in, `local res, err = require("resty.http").new():request_uri("ftp://x/") return tostring(res) .. "|" .. err`)
	if got != "nil|bad uri: ftp://x/" {
		t.Errorf("bad uri = %s", got)
	}
}

// Requests reuse connections: one pool per Root, not one transport per
// request (issue 14). The code before opened a connection per request.
func TestRestyHTTPReusesConnections(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	in, _ := pdktest.New(t)
	pdktest.Run(t, in, "reuse.lua", `local http = require "resty.http"
		for i = 1, 5 do
			local res = assert(http.new():request_uri("`+srv.URL+`/"))
			assert(res.body == "ok")
		end`)
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Fatalf("5 requests opened %d connections, want 1", conns)
	}
}

// A response body larger than the memory budget is refused, not read.
func TestRestyHTTPBodyWithinBudget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 2<<20))
	}))
	defer srv.Close()
	in, _ := pdktest.New(t, "lua_memory_budget", "1m")
	got := pdktest.Str(t, in, `local res, err = require("resty.http").new():request_uri("`+srv.URL+`/")
		return tostring(res) .. "|" .. tostring(err)`)
	if got != "nil|not enough memory" {
		t.Fatal(got)
	}
}

// new() raises ngx_lua's "API disabled in the context of ..." where
// lua-resty-http's own new() would (it makes its cosocket with
// ngx.socket.tcp()): header_filter, body_filter, log, init_worker; in a
// timer the client makes its request.
func TestRestyHTTPNewContexts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	in, _ := pdktest.New(t)
	refused := map[string]string{
		"log": "log_by_lua*", "header_filter": "header_filter_by_lua*",
		"body_filter": "body_filter_by_lua*", "init_worker": "init_worker_by_lua*",
	}
	for phase, name := range refused {
		in.Phase = phase
		if got, want := pdktest.LuaErr(t, in, `require("resty.http").new()`), "test.lua:1: API disabled in the context of "+name; got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
	}
	in.Phase = "timer"
	got := pdktest.Str(t, in, `
		local res = assert(require("resty.http").new():request_uri("`+srv.URL+`/"))
		return res.body`)
	if got != "ok" {
		t.Fatalf("timer: %q", got)
	}
}

// A body given as an iterator function (http-log's batches: "[", the
// entries, commas, "]") or a table of strings is sent whole; an iterator
// without Content-Length goes chunked; an iterator's error fails the
// request.
func TestRestyHTTPBodyIteratorAndTable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, strconv.FormatInt(r.ContentLength, 10)+"|"+string(b))
	}))
	defer srv.Close()
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`local parts, i = { "[", "{}", ",", "{}", "]" }, 0
		 local body = function() i = i + 1 return parts[i] end
		 return assert(require("resty.http").new():request_uri(URL, { method = "POST", body = body,
		   headers = { ["Content-Length"] = 7 } })).body`: "7|[{},{}]",
		`local n = 0
		 local body = function() n = n + 1 if n <= 3 then return "ab" end end
		 return assert(require("resty.http").new():request_uri(URL, { method = "POST", body = body })).body`: "-1|ababab",
		`return assert(require("resty.http").new():request_uri(URL, { method = "POST", body = { "a", "b", 1 } })).body`: "3|ab1",
		`local res, err = require("resty.http").new():request_uri(URL, { method = "POST",
		   body = function() return nil, "source failed" end })
		 return tostring(res) .. "|" .. err`: "nil|source failed",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, `local URL = "`+srv.URL+`/" `+src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}

// As lua-resty-http, the clients' methods are the module's functions: a
// request_uri replaced in the module table is what every client calls
// (Kong's azure-functions spec redirects the plugin's requests so), and
// parse_uri is there.
func TestRestyHTTPModuleIsTheMethods(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.RequestURI())
	}))
	defer srv.Close()
	in, _ := pdktest.New(t)
	got := pdktest.Str(t, in, `local http = require "resty.http"
		local orig = http.request_uri
		http.request_uri = function(self, uri, params)
		  local p = assert(http:parse_uri(uri))
		  return orig(self, "`+srv.URL+`" .. p[4], params)
		end
		local res = assert(http.new():request_uri("http://elsewhere.test:81/a/b?c=d"))
		http.request_uri = orig
		return res.body`)
	if got != "/a/b?c=d" {
		t.Errorf("the replaced request_uri was not called: %s", got)
	}
	got = pdktest.Str(t, in, `local http = require "resty.http"
		local function s(t) return table.concat({ tostring(t[1]), tostring(t[2]), tostring(t[3]), tostring(t[4]), tostring(t[5]) }, " ") end
		local bad, err = http:parse_uri("ftp://x/")
		return s(http:parse_uri("https://h.test/p?q=1")) .. "|" .. s(http:parse_uri("http://[::1]:8080?x", false)) ..
		  "|" .. tostring(bad) .. " " .. err`)
	if want := "https h.test 443 /p?q=1 nil|http [::1] 8080 / x|nil bad uri: ftp://x/"; got != want {
		t.Errorf("parse_uri = %s, want %s", got, want)
	}
}

// Request headers go out under the names the plugin gave, as
// lua-resty-http writes them (net/http canonicalised them); the ones
// net/http writes itself (Host) once, canonical.
func TestRestyHTTPSendsHeaderNamesAsGiven(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	heads := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			heads <- ""
			return
		}
		defer c.Close()
		var head []byte
		buf := make([]byte, 4096)
		for !strings.Contains(string(head), "\r\n\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			head = append(head, buf[:n]...)
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		heads <- string(head)
	}()
	in, _ := pdktest.New(t)
	pdktest.Str(t, in, `local res = assert(require("resty.http").new():request_uri("http://`+ln.Addr().String()+`/",
		{ headers = { ["x-functions-key"] = "k", host = "h.test", ["X-Canon"] = "c" } })) return res.status`)
	head := <-heads
	if !strings.Contains(head, "\r\nx-functions-key: k\r\n") || !strings.Contains(head, "\r\nX-Canon: c\r\n") ||
		strings.Count(strings.ToLower(head), "\r\nhost: ") != 1 || !strings.Contains(head, "\r\nHost: h.test\r\n") {
		t.Errorf("the server read:\n%s", head)
	}
}
