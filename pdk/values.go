package pdk

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/lib/cjson"
	"github.com/luahost/luahost/pdk/lib/native"
	"github.com/luahost/luahost/pdk/ngx"
)

// Names of the shared layer (package bind) and of the ngx, cjson and
// native packages that code above pdk (host, pdk/request) uses most,
// re-exported so that one import serves; code inside pdk/ calls those
// packages directly.

// FuncNamer turns a Lua function met at path into a *schema.Func
// (bind.FuncNamer).
type FuncNamer = bind.FuncNamer

// FuncResolver maps a *schema.Func back to a state's Lua function
// (bind.FuncResolver).
type FuncResolver = bind.FuncResolver

// ArrayMTKey is the registry key of a state's cjson.array_mt.
const ArrayMTKey = bind.ArrayMTKey

// ToValue converts a Lua value into kongdb's value model (bind.ToValue).
func ToValue(L *lua.LState, v lua.LValue, funcs FuncNamer) (any, error) {
	return bind.ToValue(L, v, funcs)
}

// FromValue converts a kongdb value-model value into Lua (bind.FromValue).
func FromValue(L *lua.LState, v any, funcs FuncResolver) lua.LValue {
	return bind.FromValue(L, v, funcs)
}

// FormatNumber prints a number as Lua's tostring does (bind.FormatNumber).
func FormatNumber(f float64) string { return bind.FormatNumber(f) }

// Null returns the state's ngx.null (bind.Null).
func Null(L *lua.LState) *lua.LUserData { return bind.Null(L) }

// IsNull reports whether v is a state's ngx.null (bind.IsNull).
func IsNull(v lua.LValue) bool { return bind.IsNull(v) }

// ArrayMT returns the state's cjson.array_mt (bind.ArrayMT).
func ArrayMT(L *lua.LState) *lua.LTable { return bind.ArrayMT(L) }

// EmptyArray returns the state's cjson.empty_array (cjson.EmptyArray).
func EmptyArray(L *lua.LState) *lua.LUserData { return cjson.EmptyArray(L) }

// EmptyArrayMT returns the state's cjson.empty_array_mt
// (cjson.EmptyArrayMT).
func EmptyArrayMT(L *lua.LState) *lua.LTable { return cjson.EmptyArrayMT(L) }

// DecodeBase64 decodes as nginx's ngx_decode_base64 (ngx.DecodeBase64).
func DecodeBase64(s string) (string, bool) { return ngx.DecodeBase64(s) }

// EscapeURI is ngx.escape_uri(s, typ) (ngx.EscapeURI).
func EscapeURI(s string, typ int) string { return ngx.EscapeURI(s, typ) }

// UnescapeURI is ngx.unescape_uri(s) (ngx.UnescapeURI).
func UnescapeURI(s string) string { return ngx.UnescapeURI(s) }

// ParseNginxTime reads an nginx time value in seconds ("1h 30m")
// (native.ParseNginxTime).
func ParseNginxTime(s string) (int64, bool) { return native.ParseNginxTime(s) }
