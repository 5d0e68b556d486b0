// Package native is the module luahost.native: the Go helpers that the
// Lua modules luahost embeds in place of Kong's (host/lua: kong.meta,
// kong.tools.*) call for what Kong does with FFI or C libraries (uuid,
// sha256, UTF-8 validation, IP parsing, gzip, random bytes, nginx time
// values, the clock).
package native

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// Open preloads "luahost.native" in L: version() is the Kong version it
// reports, random_bytes is charged to budget, and the clock readers
// (now_ms, now_ns, timestamps) read now; monotonic_ms reads Go's
// monotonic clock.
func Open(L *lua.LState, version func() string, budget *bind.Budget, now func() time.Time) {
	L.PreloadModule("luahost.native", func(L *lua.LState) int {
		m := L.NewTable()
		L.SetFuncs(m, nativeFuncs)
		m.RawSetString("version", lua.LString(version()))
		m.RawSetString("random_bytes", L.NewFunction(func(L *lua.LState) int { return randomBytes(L, budget) }))
		m.RawSetString("deflate_gzip", L.NewFunction(func(L *lua.LState) int { return deflateGzip(L, budget) }))
		m.RawSetString("inflate_gzip", L.NewFunction(func(L *lua.LState) int { return inflateGzip(L, budget) }))
		m.RawSetString("now_ms", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LNumber(float64(now().UnixMicro()) / 1000))
			return 1
		}))
		m.RawSetString("now_ns", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LNumber(float64(now().UnixNano())))
			return 1
		}))
		m.RawSetString("timestamps", L.NewFunction(func(L *lua.LState) int {
			ms := float64(L.OptNumber(1, lua.LNumber(now().UnixMilli())))
			pushTimestamps(L, ms)
			return 1
		}))
		L.Push(m)
		return 1
	})
}

// monotonicBase is where luahost.native.monotonic_ms counts from: Go's
// monotonic clock, read against the process's start (nginx's
// CLOCK_MONOTONIC counts from the boot; only differences mean anything).
var monotonicBase = time.Now()

// randomBytes is luahost.native.random_bytes(n) (kong.tools.rand's
// get_rand_bytes): n bytes from crypto/rand, charged to the budget.
func randomBytes(L *lua.LState, budget *bind.Budget) int {
	n := bind.ClampSize(float64(L.CheckNumber(1)))
	if n < 0 {
		L.ArgError(1, "must be non-negative")
	}
	budget.Reserve(L, n, 1)
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return bind.Fail(L, err.Error())
	}
	L.Push(lua.LString(b))
	return 1
}

// nativeFuncs is the luahost.native module: Go helpers the embedded Lua
// modules (kong.tools.*) call.
var nativeFuncs = map[string]lua.LGFunction{
	"uuid": func(L *lua.LState) int { L.Push(lua.LString(uuid.NewString())); return 1 },
	"monotonic_ms": func(L *lua.LState) int {
		L.Push(lua.LNumber(time.Since(monotonicBase).Milliseconds()))
		return 1
	},
	"sha256": func(L *lua.LState) int {
		sum := sha256.Sum256([]byte(luavm.CheckString(L, 1)))
		L.Push(lua.LString(sum[:]))
		return 1
	},
	"validate_utf8": func(L *lua.LState) int { L.Push(lua.LBool(utf8.ValidString(luavm.CheckString(L, 1)))); return 1 },
	"parse_time": func(L *lua.LState) int {
		n, ok := ParseNginxTime(luavm.CheckString(L, 1))
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(n))
		return 1
	},
}

// ParseNginxTime reads an nginx time value in seconds ("10", "1h 30m",
// "2d", "1y"; units ms s m h d w M y, as ngx_parse_time with is_sec);
// milliseconds are truncated.
func ParseNginxTime(s string) (int64, bool) {
	units := map[string]float64{"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, false
	}
	var total float64
	for _, f := range fields {
		i := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		n, _ := strconv.ParseFloat(f[:i], 64)
		mul := 1.0
		if u := f[i:]; u != "" {
			m, ok := units[u]
			if !ok {
				return 0, false
			}
			mul = m
		}
		total += n * mul
	}
	return int64(total), true
}

// pushTimestamps pushes kong.tools.timestamp's get_timestamps table: the
// start (UTC, in ms) of the second, minute, hour, day, month and year
// holding ms.
func pushTimestamps(L *lua.LState, ms float64) {
	t := time.UnixMilli(int64(ms)).UTC()
	at := func(y int, mo time.Month, d, h, mi, s int) lua.LNumber {
		return lua.LNumber(time.Date(y, mo, d, h, mi, s, 0, time.UTC).UnixMilli())
	}
	out := L.CreateTable(0, 6)
	out.RawSetString("second", at(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second()))
	out.RawSetString("minute", at(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0))
	out.RawSetString("hour", at(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0))
	out.RawSetString("day", at(t.Year(), t.Month(), t.Day(), 0, 0, 0))
	out.RawSetString("month", at(t.Year(), t.Month(), 1, 0, 0, 0))
	out.RawSetString("year", at(t.Year(), 1, 1, 0, 0, 0))
	L.Push(out)
}

// gzipChunk is how much (de)compression runs between two checks of the
// worker's deadline and memory budget.
const gzipChunk = 64 << 10

// stopped reports the error of L's context once the worker's deadline
// fired (nil before).
func stopped(L *lua.LState) error {
	if ctx := L.Context(); ctx != nil {
		return ctx.Err()
	}
	return nil
}

// deflateGzip is luahost.native.deflate_gzip(s) (kong.tools.gzip's
// deflate_gzip): compressed in chunks, stopping at the worker's deadline;
// the output is charged to the memory budget.
func deflateGzip(L *lua.LState, budget *bind.Budget) int {
	in := luavm.CheckString(L, 1)
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	for off := 0; off < len(in); off += gzipChunk {
		if err := stopped(L); err != nil {
			L.RaiseError("%s", err)
		}
		end := min(off+gzipChunk, len(in))
		w.Write([]byte(in[off:end]))
	}
	w.Close()
	budget.Reserve(L, int64(buf.Len()), 1)
	L.Push(lua.LString(buf.String()))
	return 1
}

// inflateGzip is luahost.native.inflate_gzip(s): decompressed in chunks,
// each charged to the memory budget ("not enough memory" for a body that
// inflates past it: a gzip bomb costs the call, not the process) and
// stopping at the worker's deadline; nil, err for data that is not gzip.
func inflateGzip(L *lua.LState, budget *bind.Budget) int {
	r, err := gzip.NewReader(strings.NewReader(luavm.CheckString(L, 1)))
	if err != nil {
		return bind.Fail(L, err.Error())
	}
	var out []byte
	chunk := make([]byte, gzipChunk)
	pending := 0 // inflated bytes not charged yet (the budget counts in chunks)
	for {
		if err := stopped(L); err != nil {
			L.RaiseError("%s", err)
		}
		n, rerr := r.Read(chunk)
		if n > 0 {
			if pending += n; pending >= gzipChunk {
				budget.Reserve(L, int64(pending), 1)
				pending = 0
			}
			out = append(out, chunk[:n]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return bind.Fail(L, rerr.Error())
		}
	}
	L.Push(lua.LString(out))
	return 1
}
