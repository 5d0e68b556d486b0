package luavm

import (
	"context"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The request-path cost of luavm's corrections, side by side with plain
// gopher-lua in one run: "gopher" is lua.NewState + L.Load + L.PCall with
// gopher-lua's pcall and its own OP_CONCAT handler put back for the run;
// "luavm" is NewState + Compile + PCall.

type benchVM struct {
	name  string
	state func() *lua.LState
	load  func(L *lua.LState, src string) *lua.LFunction
	call  func(L *lua.LState, nargs, nret int) error
}

var benchVMs = []benchVM{
	{"gopher",
		func() *lua.LState { return lua.NewState() },
		func(L *lua.LState, src string) *lua.LFunction {
			fn, err := L.Load(strings.NewReader(src), "bench.lua")
			if err != nil {
				panic(err)
			}
			return fn
		},
		func(L *lua.LState, nargs, nret int) error { return L.PCall(nargs, nret, nil) }},
	{"luavm",
		func() *lua.LState { return NewState(Options{}) },
		func(L *lua.LState, src string) *lua.LFunction {
			proto, err := Compile("bench.lua", []byte(src))
			if err != nil {
				panic(err)
			}
			return L.NewFunctionFromProto(proto)
		},
		func(L *lua.LState, nargs, nret int) error { return PCall(L, nargs, nret, false) }},
}

// benchHandler runs the function src returns once per iteration, called
// from Go under a protected call as the host calls a phase handler.
func benchHandler(b *testing.B, src string) {
	for _, vm := range benchVMs {
		b.Run(vm.name, func(b *testing.B) {
			if vm.name == "gopher" {
				// gopher-lua's own OP_CONCAT, for the comparison only
				jumpTable[lua.OP_CONCAT] = gopherConcat
				defer func() { jumpTable[lua.OP_CONCAT] = concatOp }()
			}
			L := vm.state()
			defer L.Close()
			L.Push(vm.load(L, src))
			if err := vm.call(L, 0, 1); err != nil {
				b.Fatal(err)
			}
			fn := L.Get(-1)
			L.Pop(1)
			call := vm.call
			if p := protectorOf(L); p != nil {
				call = func(L *lua.LState, nargs, nret int) error { return p.PCall(L, nargs, nret, false) }
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				L.Push(fn)
				L.Push(lua.LNumber(i))
				if err := call(L, 1, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPhaseCall: an empty handler, the cost of the protected call.
func BenchmarkPhaseCall(b *testing.B) {
	benchHandler(b, `return function(conf) end`)
}

// BenchmarkPcallHeavy: a handler making ten protected calls, two of which
// fail (cjson.safe-style decoding, cache callbacks).
func BenchmarkPcallHeavy(b *testing.B) {
	benchHandler(b, `
local function ok(x) return x end
local function bad(x) error("bad input", 0) end
return function(i)
  local n = 0
  for k = 1, 8 do
    local s, v = pcall(ok, k)
    if s then n = n + v end
  end
  local s1 = pcall(bad, 1)
  local s2 = pcall(bad, 2)
  return n
end`)
}

// BenchmarkStringBuilding: keys and headers built with .. from strings,
// integers and fractions.
func BenchmarkStringBuilding(b *testing.B) {
	benchHandler(b, `
local prefix, id = "ratelimit", "consumer-1"
return function(i)
  local key = prefix .. ":" .. id .. ":" .. i
  local header = "limit=" .. 100 .. ", remaining=" .. (100 - i % 100)
  local latency = "upstream " .. (i / 7) .. " ms"
  local plain = "Bearer " .. id
  return key, header, latency, plain
end`)
}

// BenchmarkUnderContext is a handler-like function (field reads, a call
// into Go, a loop) run under a context, as the host runs every call:
// gopher-lua's SetContext (the context polled before every instruction)
// against SetContext here (polled at jumps, calls and returns).
func BenchmarkUnderContext(b *testing.B) {
	for _, tc := range []struct {
		name string
		set  func(*lua.LState, context.Context)
	}{
		{"gopher-lua", (*lua.LState).SetContext},
		{"luavm", SetContext},
	} {
		b.Run(tc.name, func(b *testing.B) {
			L := NewState(Options{})
			defer L.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tc.set(L, ctx)
			if err := L.DoString(`
				local kong = { request = { get_header = function(n) return n end }, ctx = {} }
				function handler(conf)
					local n = 0
					for i = 1, 20 do
						local v = kong.request.get_header(conf.header_name)
						if v and conf.hide then n = n + #v end
					end
					return n
				end`); err != nil {
				b.Fatal(err)
			}
			fn := L.GetGlobal("handler")
			conf := L.NewTable()
			conf.RawSetString("header_name", lua.LString("x-api-token"))
			conf.RawSetString("hide", lua.LTrue)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, conf); err != nil {
					b.Fatal(err)
				}
				L.Pop(1)
			}
		})
	}
}
