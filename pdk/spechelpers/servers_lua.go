package spechelpers

import (
	"encoding/json"
	"net"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// servers are the http_mock servers and server threads one spec file
// started.
type servers struct {
	mu      sync.Mutex
	next    int
	mocks   map[int]*HTTPMock
	threads map[int]*serverThread
	https   map[int]*HTTPSServer
}

func (s *servers) close() {
	s.mu.Lock()
	mocks, threads, https := s.mocks, s.threads, s.https
	s.mocks, s.threads, s.https = map[int]*HTTPMock{}, map[int]*serverThread{}, map[int]*HTTPSServer{}
	s.mu.Unlock()
	for _, h := range https {
		h.Shutdown()
	}
	for _, m := range mocks {
		m.Stop()
	}
	for _, t := range threads {
		t.stop()
		<-t.done
	}
}

func (s *servers) mock(L *lua.LState) *HTTPMock {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mocks[L.CheckInt(1)]
	if m == nil {
		L.RaiseError("http_mock: stopped or unknown mock %d", L.CheckInt(1))
	}
	return m
}

func (s *servers) httpsServer(L *lua.LState) *HTTPSServer {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.https[L.CheckInt(1)]
	if h == nil {
		L.RaiseError("https_server: stopped or unknown server %d", L.CheckInt(1))
	}
	return h
}

// httpsCounts is count_results' table.
func httpsCounts(L *lua.LState, counts map[string]HTTPSCount) *lua.LTable {
	t := L.NewTable()
	var all HTTPSCount
	for host, c := range counts {
		all.OK += c.OK
		all.Fail += c.Fail
		all.StatusOK += c.StatusOK
		all.StatusFail += c.StatusFail
		ht := L.NewTable()
		ht.RawSetString("ok", lua.LNumber(c.OK))
		ht.RawSetString("fail", lua.LNumber(c.Fail))
		ht.RawSetString("status_ok", lua.LNumber(c.StatusOK))
		ht.RawSetString("status_fail", lua.LNumber(c.StatusFail))
		t.RawSetString(host, ht)
	}
	t.RawSetString("ok", lua.LNumber(all.OK))
	t.RawSetString("fail", lua.LNumber(all.Fail))
	t.RawSetString("total", lua.LNumber(all.OK+all.Fail))
	t.RawSetString("status_ok", lua.LNumber(all.StatusOK))
	t.RawSetString("status_fail", lua.LNumber(all.StatusFail))
	t.RawSetString("status_total", lua.LNumber(all.StatusOK+all.StatusFail))
	return t
}

func fail(L *lua.LState, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(err.Error()))
	return 2
}

func seconds(v lua.LValue, def time.Duration) time.Duration {
	if n, ok := v.(lua.LNumber); ok && n > 0 {
		return time.Duration(float64(n) * float64(time.Second))
	}
	return def
}

func (s *servers) bind(L *lua.LState, mod *lua.LTable, nodes Nodes) {
	L.SetFuncs(mod, map[string]lua.LGFunction{
		// http_mock_new(port, routes, log_opts) -> id, port
		"http_mock_new": func(L *lua.LState) int {
			var routes []MockRoute
			L.CheckTable(2).ForEach(func(k, v lua.LValue) {
				t, ok := v.(*lua.LTable)
				if !ok {
					return
				}
				mr := MockRoute{Path: k.String(), Access: lua.LVAsString(t.RawGetString("access")),
					Content: lua.LVAsString(t.RawGetString("content")), Log: lua.LVAsString(t.RawGetString("log"))}
				if t.RawGetString("header_filter") != lua.LNil {
					// Kong's template: a header_filter field opens the
					// phase's block, whose code is the header field
					mr.HeaderFilter = lua.LVAsString(t.RawGetString("header"))
				}
				routes = append(routes, mr)
			})
			opts := MockLogOpts{Req: true, ReqBody: true}
			if t, ok := L.Get(3).(*lua.LTable); ok {
				flag := func(name string, def bool) bool {
					switch v := t.RawGetString(name).(type) {
					case lua.LBool:
						return bool(v)
					}
					return def
				}
				opts = MockLogOpts{Req: flag("req", true), ReqBody: flag("req_body", true) && flag("req_body_large", true),
					Resp: flag("resp", false), RespBody: flag("resp_body", false)}
			}
			ML, release, err := nodes.SpareState()
			if err != nil {
				return fail(L, err)
			}
			m, err := NewHTTPMock(L.OptInt(1, 0), routes, opts, ML, release)
			if err != nil {
				return fail(L, err)
			}
			s.mu.Lock()
			s.next++
			id := s.next
			s.mocks[id] = m
			s.mu.Unlock()
			L.Push(lua.LNumber(id))
			L.Push(lua.LNumber(m.Port()))
			return 2
		},
		"http_mock_start": func(L *lua.LState) int {
			s.mock(L).Start()
			L.Push(lua.LTrue)
			return 1
		},
		"http_mock_stop": func(L *lua.LState) int {
			id := L.CheckInt(1)
			s.mu.Lock()
			m := s.mocks[id]
			delete(s.mocks, id)
			s.mu.Unlock()
			if m != nil {
				m.Stop()
			}
			L.Push(lua.LTrue)
			return 1
		},
		"http_mock_logs": func(L *lua.LState) int {
			L.Push(lua.LString(s.mock(L).TakeLogs()))
			return 1
		},
		"http_mock_purge": func(L *lua.LState) int {
			s.mock(L).Purge()
			L.Push(lua.LTrue)
			return 1
		},
		"http_mock_pending": func(L *lua.LState) int {
			L.Push(lua.LNumber(s.mock(L).Pending()))
			return 1
		},
		// https_server_start(opts) -> id, port (opts: port, hosts,
		// protocol, check_hostname, delay in ms, disable_ipv6)
		"https_server_start": func(L *lua.LState) int {
			t := L.CheckTable(1)
			o := HTTPSServerOptions{Port: int(lua.LVAsNumber(t.RawGetString("port"))),
				Protocol:      lua.LVAsString(t.RawGetString("protocol")),
				CheckHostname: lua.LVAsBool(t.RawGetString("check_hostname")),
				Delay:         time.Duration(float64(lua.LVAsNumber(t.RawGetString("delay"))) * float64(time.Millisecond)),
				DisableIPv6:   lua.LVAsBool(t.RawGetString("disable_ipv6"))}
			if hosts, ok := t.RawGetString("hosts").(*lua.LTable); ok {
				for i := 1; i <= hosts.Len(); i++ {
					o.Hosts = append(o.Hosts, lua.LVAsString(hosts.RawGetInt(i)))
				}
			}
			h, err := StartHTTPSServer(o)
			if err != nil {
				return fail(L, err)
			}
			s.mu.Lock()
			s.next++
			id := s.next
			s.https[id] = h
			s.mu.Unlock()
			L.Push(lua.LNumber(id))
			L.Push(lua.LNumber(h.Port()))
			return 2
		},
		// https_server_shutdown(id) -> the answers counted (Kong's
		// count_results: ok, fail, total, status_ok, status_fail,
		// status_total, and per host ok, fail, status_ok, status_fail)
		"https_server_shutdown": func(L *lua.LState) int {
			id := L.CheckInt(1)
			s.mu.Lock()
			h := s.https[id]
			delete(s.https, id)
			s.mu.Unlock()
			if h == nil {
				L.RaiseError("https_server: stopped or unknown server %d", id)
			}
			L.Push(httpsCounts(L, h.Shutdown()))
			return 1
		},
		"https_server_clear_log": func(L *lua.LState) int {
			s.httpsServer(L).ClearLogs()
			return 0
		},
		// https_server_log(id, key) -> the key's records, JSON
		"https_server_log": func(L *lua.LState) int {
			L.Push(lua.LString(s.httpsServer(L).Logs(L.OptString(2, "default"))))
			return 1
		},
		// tcp_server(port, requests, timeout, prefix, tls) -> thread id
		"tcp_server": func(L *lua.LState) int {
			t, err := tcpServer(L.CheckInt(1), tcpOptions{requests: L.OptInt(2, 1), timeout: seconds(L.Get(3), 60*time.Second),
				prefix: L.OptString(4, ""), tls: lua.LVAsBool(L.Get(5))})
			if err != nil {
				return fail(L, err)
			}
			return s.pushThread(L, t)
		},
		// udp_server(port, n, timeout) -> thread id
		"udp_server": func(L *lua.LState) int {
			t, err := udpServer(L.CheckInt(1), L.OptInt(2, 1), seconds(L.Get(3), 360*time.Second))
			if err != nil {
				return fail(L, err)
			}
			return s.pushThread(L, t)
		},
		"kill_tcp_server": func(L *lua.LState) int {
			oks, fails, err := killTCPServer(L.CheckInt(1))
			if err != nil {
				return fail(L, err)
			}
			L.Push(lua.LNumber(oks))
			L.Push(lua.LNumber(fails))
			return 2
		},
		// thread_join(id) -> true, results... (llthreads2's join)
		"thread_join": func(L *lua.LState) int {
			s.mu.Lock()
			t := s.threads[L.CheckInt(1)]
			s.mu.Unlock()
			if t == nil {
				return fail(L, errUnknownThread)
			}
			res, err := t.join(L.Context())
			if err != nil {
				L.RaiseError("thread join: %v (the server was stopped)", err)
			}
			L.Push(lua.LTrue)
			for _, r := range res {
				L.Push(toLua(L, r))
			}
			return 1 + len(res)
		},
		"available_port": func(L *lua.LState) int {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fail(L, err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			L.Push(lua.LNumber(port))
			return 1
		},
		"thread_alive": func(L *lua.LState) int {
			s.mu.Lock()
			t := s.threads[L.CheckInt(1)]
			s.mu.Unlock()
			L.Push(lua.LBool(t != nil && t.alive()))
			return 1
		},
	})
}

var errUnknownThread = jsonError("unknown thread")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func (s *servers) pushThread(L *lua.LState, t *serverThread) int {
	s.mu.Lock()
	s.next++
	id := s.next
	s.threads[id] = t
	s.mu.Unlock()
	L.Push(lua.LNumber(id))
	return 1
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case string:
		return lua.LString(v)
	case []string:
		t := L.NewTable()
		for _, e := range v {
			t.Append(lua.LString(e))
		}
		return t
	}
	b, _ := json.Marshal(v)
	return lua.LString(b)
}
