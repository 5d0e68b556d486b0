// Package luavm makes gopher-lua behave as Lua 5.1 where plugins notice the
// difference: protected calls that keep the upvalues of live frames open
// (gopher-lua#448), numbers converted to strings with %.14g, chunks compiled
// once with those corrections. Everything that builds a Lua state or runs a
// protected call goes through it: host for workers, pdk for the calls its
// bindings make back into Lua. It depends on gopher-lua only.
package luavm
