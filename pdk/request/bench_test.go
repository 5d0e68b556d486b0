package request

import (
	"log/slog"
	"testing"

	"github.com/valyala/fasthttp"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/proxy"
)

// benchState is a worker bound to a request in access, without a proxy.
func benchState(b *testing.B) (*State, *lua.LState) {
	root := &pdk.Root{Conf: conf.New(), Logger: slog.New(slog.DiscardHandler), WorkerCount: 1}
	L := luavm.NewState(luavm.Options{})
	b.Cleanup(L.Close)
	in := root.Open(L, 0)
	st := Open(in)
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	req.Header.SetMethod("GET")
	req.SetRequestURI("/some/path/here?a=1&b=2")
	req.Header.Set("Host", "example.com")
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Authorization", "Bearer abc")
	req.Header.Set("X-Api-Key", "key")
	rc := &fasthttp.RequestCtx{}
	rc.Init(&req, nil, nil)
	c := &proxy.Context{RequestCtx: rc, OriginalURI: []byte("/some/path/here?a=1&b=2"),
		OriginalHost: []byte("example.com"), RequestID: "0123456789abcdef0123456789abcdef"}
	in.SetCtx(L.NewTable())
	st.Begin(c)
	st.SetPhase(PhaseAccess)
	return st, L
}

func benchLua(b *testing.B, src string) {
	_, L := benchState(b)
	proto, err := luavm.Compile("bench", []byte("return function() "+src+" end"))
	if err != nil {
		b.Fatal(err)
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := luavm.PCall(L, 0, 1, false); err != nil {
		b.Fatal(err)
	}
	fn := L.Get(-1)
	L.Pop(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := luavm.CallProtected(L, fn, 0, false); err != nil && !IsExit(err) {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetHeader(b *testing.B)  { benchLua(b, `kong.request.get_header("x-api-key")`) }
func BenchmarkGetPath(b *testing.B)    { benchLua(b, `kong.request.get_path()`) }
func BenchmarkGetMethod(b *testing.B)  { benchLua(b, `kong.request.get_method()`) }
func BenchmarkNgxVarURI(b *testing.B)  { benchLua(b, `local _ = ngx.var.request_uri`) }
func BenchmarkNgxVarHost(b *testing.B) { benchLua(b, `local _ = ngx.var.host`) }
func BenchmarkSetHeader(b *testing.B) {
	benchLua(b, `kong.service.request.set_header("X-Consumer-Id", "abc")`)
}
func BenchmarkResponseExit(b *testing.B) {
	benchLua(b, `kong.response.exit(401, { message = "Unauthorized" })`)
}

// BenchmarkBaseline is a Go function call returning a string: the floor
// of every binding above.
func BenchmarkBaseline(b *testing.B) { benchLua(b, `ngx.get_phase()`) }
