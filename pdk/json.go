package pdk

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/lib/cjson"
)

// JSON is a cjson.safe codec set up as Kong's kong.tools.cjson (16
// digits, sparse arrays up to 2^15, arrays decoded with array_mt), for the
// Go bindings of a worker (kong.response.exit, kong.request.get_body).
type JSON struct{ c *cjson.Codec }

// JSON returns the worker's JSON codec (one per Instance, built on first
// use).
func (in *Instance) JSON() JSON {
	if in.json == nil {
		in.json = cjson.NewKongCodec(in.L, in.budget)
		in.json.DecodeArrayWithArrayMT(true)
	}
	return JSON{in.json}
}

// Encode is cjson.safe.encode(v): the text, or "" and lua-cjson's message.
// A text past the worker's memory budget raises "not enough memory".
func (j JSON) Encode(L *lua.LState, v lua.LValue) (string, string) {
	out, err := j.c.Encode(v)
	if err == cjson.ErrTooBig {
		L.RaiseError(ErrNoMemory)
	}
	return out, string(err)
}

// Decode is cjson.safe.decode(s) with arrays given array_mt: the value, or
// nil and lua-cjson's message. A decode that outlives the state's
// deadline raises it.
func (j JSON) Decode(L *lua.LState, s string) (lua.LValue, string) {
	v, err := j.c.Decode(L, s)
	if err == cjson.ErrStopped {
		L.RaiseError("%s", L.Context().Err())
	}
	if err != "" {
		return lua.LNil, string(err)
	}
	return v, ""
}
