package pdk

import lua "github.com/yuin/gopher-lua"

// JSON is a cjson.safe instance set up as Kong's kong.tools.cjson (16
// digits, sparse arrays up to 2^15, arrays decoded with array_mt), for Go
// bindings of this worker (kong.response.exit, kong.request.get_body).
type JSON struct{ c *cjsonConfig }

// JSON returns the worker's JSON codec (one per Instance, built on first use).
func (in *Instance) JSON() JSON {
	if in.json == nil {
		c := newCJSONConfig(in, true)
		c.precision = 16
		c.sparseSafe = 1 << 15
		c.decodeArrayMT = true
		in.json = c
	}
	return JSON{in.json}
}

// Encode is cjson.safe.encode(v): the text, or "" and lua-cjson's message.
// A text past the worker's memory budget raises "not enough memory".
func (j JSON) Encode(L *lua.LState, v lua.LValue) (string, string) {
	out, err := j.c.Encode(v)
	if err == errEncodeTooBig {
		L.RaiseError(ErrNoMemory)
	}
	return out, string(err)
}

// Decode is cjson.safe.decode(s) with arrays given array_mt: the value, or
// nil and lua-cjson's message.
func (j JSON) Decode(L *lua.LState, s string) (lua.LValue, string) {
	v, err := j.c.Decode(L, s)
	if err == errDecodeStopped {
		L.RaiseError("%s", L.Context().Err())
	}
	if err != "" {
		return lua.LNil, string(err)
	}
	return v, ""
}
