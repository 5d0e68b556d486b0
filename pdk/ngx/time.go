package ngx

import (
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// http formats: RFC 1123 (ngx.http_time), RFC 850 with a two-digit year
// (ngx.cookie_time), and the three forms nginx's ngx_parse_http_time reads.
const (
	httpTimeFormat   = "Mon, 02 Jan 2006 15:04:05 GMT"
	cookieTimeFormat = "Mon, 02-Jan-06 15:04:05 GMT"
)

var parseHTTPFormats = []string{httpTimeFormat, "Monday, 02-Jan-06 15:04:05 GMT", "Mon Jan _2 15:04:05 2006"}

// TimeFuncs are ngx.now/time/today/localtime/utctime/update_time/
// http_time/cookie_time/parse_http_time. nginx caches the time per event
// loop turn and ngx.update_time refreshes it; here every call reads the
// clock, so update_time does nothing.
func TimeFuncs(now func() time.Time) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"now": func(L *lua.LState) int {
			// milliseconds, as nginx's cached time
			L.Push(lua.LNumber(float64(now().UnixMilli()) / 1000))
			return 1
		},
		"time": func(L *lua.LState) int {
			L.Push(lua.LNumber(now().Unix()))
			return 1
		},
		"update_time": func(L *lua.LState) int { return 0 },
		"today": func(L *lua.LState) int {
			L.Push(lua.LString(now().Format("2006-01-02")))
			return 1
		},
		"localtime": func(L *lua.LState) int {
			L.Push(lua.LString(now().Format("2006-01-02 15:04:05")))
			return 1
		},
		"utctime": func(L *lua.LState) int {
			L.Push(lua.LString(now().UTC().Format("2006-01-02 15:04:05")))
			return 1
		},
		"http_time": func(L *lua.LState) int {
			sec := int64(L.CheckNumber(1))
			L.Push(lua.LString(time.Unix(sec, 0).UTC().Format(httpTimeFormat)))
			return 1
		},
		"cookie_time": func(L *lua.LState) int {
			sec := int64(L.CheckNumber(1))
			L.Push(lua.LString(time.Unix(sec, 0).UTC().Format(cookieTimeFormat)))
			return 1
		},
		"parse_http_time": func(L *lua.LState) int {
			s := luavm.CheckString(L, 1)
			for _, f := range parseHTTPFormats {
				if t, err := time.Parse(f, s); err == nil {
					L.Push(lua.LNumber(t.Unix()))
					return 1
				}
			}
			L.Push(lua.LNil)
			return 1
		},
	}
}
