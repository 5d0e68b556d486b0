package restyredis_test

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/pdktest"
)

// A resty.redis client left connected belongs to its context (request,
// timer): another context using it gets "bad request" (its cosocket's
// answer in ngx_lua), and the context's end closes the connection.
func TestRestyRedisClosedWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ended := make(chan struct{}, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
		ended <- struct{}{}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	in, _ := pdktest.New(t)
	var a, b bind.Cosockets
	in.SwitchCosockets(&a)
	pdktest.Run(t, in, "a.lua", `
		red = require("resty.redis"):new()
		assert(red:connect("127.0.0.1", `+port+`))`)
	if a.Open() != 1 {
		t.Fatalf("%d tracked, want 1", a.Open())
	}
	in.SwitchCosockets(&b)
	if got := pdktest.LuaErr(t, in, `red:get("k")`); got != "bad request" {
		t.Fatalf("another context: %q", got)
	}
	a.End()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the connection was not closed with its context")
	}
	if got := pdktest.Str(t, in, `local ok, err = red:get("k") return tostring(ok) .. " " .. err`); got != "nil not initialized" {
		t.Fatalf("after the end: %q", got)
	}
}
