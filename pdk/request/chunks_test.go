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

// boundState is a State bound to a request without a proxy, for phases
// driven by hand (a body streamed in several chunks).
func boundState(t *testing.T) (*State, *proxy.Context, func(src string) (lua.LValue, error)) {
	t.Helper()
	root := &pdk.Root{Conf: conf.New(), Logger: slog.New(slog.DiscardHandler), WorkerCount: 1}
	L := luavm.NewState(luavm.Options{})
	t.Cleanup(L.Close)
	in := root.Open(L, 0)
	st := Open(in)
	var req fasthttp.Request
	req.SetRequestURI("/c")
	rc := &fasthttp.RequestCtx{}
	rc.Init(&req, nil, nil)
	c := &proxy.Context{RequestCtx: rc, OriginalURI: []byte("/c"), RequestID: "r"}
	in.SetCtx(L.NewTable())
	st.Begin(c)
	run := func(src string) (lua.LValue, error) {
		fn, err := L.LoadString(src)
		if err != nil {
			t.Fatal(err)
		}
		err = luavm.CallProtected(L, fn, 1, false)
		if err != nil {
			return nil, err
		}
		v := L.Get(-1)
		L.Pop(1)
		return v, nil
	}
	return st, c, run
}

// kong.response.get_raw_body buffers a streamed body and answers it whole
// at the last chunk; the chunks before are withheld (Kong's
// KONG_BODY_BUFFER).
func TestGetRawBodyAcrossChunks(t *testing.T) {
	st, c, run := boundState(t)
	st.SetPhase(PhaseAccess)
	st.SetPhase(PhaseHeaderFilter)
	for i, chunk := range []struct {
		in   string
		eof  bool
		body string
		out  string
	}{{"ab", false, "nil", ""}, {"cd", false, "nil", ""}, {"ef", true, "abcdef", "abcdef"}} {
		c.BodyChunk, c.BodyEOF = []byte(chunk.in), chunk.eof
		st.SetPhase(PhaseBodyFilter)
		v, err := run(`return tostring(kong.response.get_raw_body())`)
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != chunk.body || string(c.BodyChunk) != chunk.out {
			t.Errorf("chunk %d: body %q, sent %q", i, v.String(), c.BodyChunk)
		}
	}
}

// kong.response.exit in header_filter: the first chunk becomes its body
// (with eof), the upstream's later chunks are dropped.
func TestHeaderFilterExitReplacesStreamedBody(t *testing.T) {
	st, c, run := boundState(t)
	st.SetPhase(PhaseAccess)
	st.SetPhase(PhaseHeaderFilter)
	if _, err := run(`return kong.response.exit(403, "denied")`); !IsExit(err) {
		t.Fatalf("exit: %v", err)
	}
	if c.RequestCtx.Response.Header.ContentLength() != len("denied") {
		t.Errorf("content-length %d", c.RequestCtx.Response.Header.ContentLength())
	}
	for i, want := range []string{"denied", "", ""} {
		c.BodyChunk, c.BodyEOF = []byte("upstream"), i == 2
		st.SetPhase(PhaseBodyFilter)
		if string(c.BodyChunk) != want {
			t.Errorf("chunk %d: %q, want %q", i, c.BodyChunk, want)
		}
	}
}
