package pdk

import (
	"context"
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/internal/proccpu"
	"github.com/luahost/luahost/kongdb/schema"
)

// measure runs body (which does b.N operations) with the timer and CPU
// clock running.
func measure(b *testing.B, body func()) {
	b.ReportAllocs()
	b.ResetTimer()
	start := proccpu.Now()
	body()
	b.StopTimer()
	b.ReportMetric(float64(proccpu.Now()-start)/float64(b.N), "cpu-ns/op")
}

// benchFn compiles src (a function body taking ...) once and returns it.
func benchFn(b *testing.B, in *Instance, src string) *lua.LFunction {
	b.Helper()
	fn, err := in.L.Load(strings.NewReader(src), "bench.lua")
	if err != nil {
		b.Fatal(err)
	}
	return fn
}

func benchCall(b *testing.B, in *Instance, fn *lua.LFunction, args ...lua.LValue) {
	if err := in.L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, args...); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkLuaSelectByUnique(b *testing.B) {
	in, db := newDBState(b)
	cid := insertConsumer(b, db, "bob")
	doLua(b, in, `assert(kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" }, key = "secret" }))`)
	// The loop runs in Lua: one Go->Lua call for the whole benchmark.
	fn := benchFn(b, in, `local n = ... local dao = kong.db.keyauth_credentials
		for i = 1, n do local row = dao:select_by_key("secret") if not row then error("missing") end end`)
	measure(b, func() { benchCall(b, in, fn, lua.LNumber(b.N)) })
}

// BenchmarkGoSelectByUnique is the same lookup from Go, for comparison.
func BenchmarkGoSelectByUnique(b *testing.B) {
	in, db := newDBState(b)
	cid := insertConsumer(b, db, "bob")
	doLua(b, in, `assert(kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" }, key = "secret" }))`)
	ctx := schema.WithFuncRunner(context.Background(), builtinRunner{})
	dao := db.DAO("keyauth_credentials")
	measure(b, func() {
		for i := 0; i < b.N; i++ {
			if row, err := dao.SelectBy(ctx, "key", "secret", nil); err != nil || row == nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLuaInsert(b *testing.B) {
	in, db := newDBState(b)
	cid := insertConsumer(b, db, "bob")
	fn := benchFn(b, in, `local key = ... assert(kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" }, key = key }))`)
	keys := make([]lua.LValue, b.N)
	for i := range keys {
		keys[i] = lua.LString(fmt.Sprintf("key-%d", i))
	}
	measure(b, func() {
		for i := 0; i < b.N; i++ {
			benchCall(b, in, fn, keys[i])
		}
	})
}

func BenchmarkLuaPage(b *testing.B) {
	in, db := newDBState(b)
	cid := insertConsumer(b, db, "bob")
	doLua(b, in, `for i = 1, 100 do assert(kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" }, key = "k" .. i })) end`)
	fn := benchFn(b, in, `local rows = assert(kong.db.keyauth_credentials:page(100)) if #rows ~= 100 then error(#rows) end`)
	measure(b, func() {
		for i := 0; i < b.N; i++ {
			benchCall(b, in, fn)
		}
	})
}

func BenchmarkLuaEach(b *testing.B) {
	in, db := newDBState(b)
	cid := insertConsumer(b, db, "bob")
	doLua(b, in, `for i = 1, 100 do assert(kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" }, key = "k" .. i })) end`)
	fn := benchFn(b, in, `local n = 0 for row, err in kong.db.keyauth_credentials:each(50) do n = n + 1 end if n ~= 100 then error(n) end`)
	measure(b, func() {
		for i := 0; i < b.N; i++ {
			benchCall(b, in, fn)
		}
	})
}
