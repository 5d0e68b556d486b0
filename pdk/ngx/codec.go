package ngx

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// CodecFuncs are ngx's hash, base64 and URI functions (ngx.md5,
// ngx.encode_base64, ngx.escape_uri, ngx.encode_args, ...), as the ngx
// table of every worker holds them.
var CodecFuncs = map[string]lua.LGFunction{
	"md5": func(L *lua.LState) int {
		sum := md5.Sum([]byte(bind.OptString(L, 1)))
		L.Push(lua.LString(hex.EncodeToString(sum[:])))
		return 1
	},
	"md5_bin": func(L *lua.LState) int {
		sum := md5.Sum([]byte(bind.OptString(L, 1)))
		L.Push(lua.LString(sum[:]))
		return 1
	},
	"sha1_bin": func(L *lua.LState) int {
		sum := sha1.Sum([]byte(bind.OptString(L, 1)))
		L.Push(lua.LString(sum[:]))
		return 1
	},
	"crc32_short": ngxCRC32,
	"crc32_long":  ngxCRC32,
	"hmac_sha1": func(L *lua.LState) int {
		m := hmac.New(sha1.New, []byte(bind.OptString(L, 1)))
		m.Write([]byte(bind.OptString(L, 2)))
		L.Push(lua.LString(m.Sum(nil)))
		return 1
	},
	"encode_base64": func(L *lua.LState) int {
		s := bind.OptString(L, 1)
		enc := base64.StdEncoding
		if L.OptBool(2, false) {
			enc = base64.RawStdEncoding
		}
		L.Push(lua.LString(enc.EncodeToString([]byte(s))))
		return 1
	},
	"decode_base64": func(L *lua.LState) int {
		if b, ok := DecodeBase64(luavm.CheckString(L, 1)); ok {
			L.Push(lua.LString(b))
		} else {
			L.Push(lua.LNil)
		}
		return 1
	},
	"escape_uri": func(L *lua.LState) int {
		typ := L.OptInt(2, escapeURIComponent)
		if typ < 0 || typ >= len(escapeTables) {
			L.ArgError(2, "\"typ\" "+lua.LNumber(typ).String()+" out of range")
		}
		L.Push(lua.LString(EscapeURI(bind.OptString(L, 1), typ)))
		return 1
	},
	"unescape_uri": func(L *lua.LState) int {
		L.Push(lua.LString(UnescapeURI(bind.OptString(L, 1))))
		return 1
	},
	"encode_args": ngxEncodeArgs,
	"decode_args": ngxDecodeArgs,
}

func ngxCRC32(L *lua.LState) int {
	L.Push(lua.LNumber(crc32.ChecksumIEEE([]byte(bind.OptString(L, 1)))))
	return 1
}

// DecodeBase64 decodes like nginx's ngx_decode_base64: padding is optional,
// anything after the first "=" is ignored, and a length of 1 mod 4 or a byte
// outside the alphabet fails.
func DecodeBase64(s string) (string, bool) {
	if i := strings.IndexByte(s, '='); i >= 0 {
		s = s[:i]
	}
	// Go's decoder skips "\r" and "\n"; nginx's rejects them
	if len(s)%4 == 1 || strings.ContainsAny(s, "\r\n") {
		return "", false
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		// nginx tolerates non-zero trailing bits
		b, err = base64.RawStdEncoding.Strict().DecodeString(s)
		if err != nil {
			return lenientDecodeBase64(s)
		}
	}
	return string(b), true
}

// lenientDecodeBase64 decodes ignoring stray low bits in the last symbol, as
// nginx does.
func lenientDecodeBase64(s string) (string, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(alphabet, s[i])
		if v < 0 {
			return "", false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>uint(bits)))
		}
	}
	return string(out), true
}

// nginx escape types (ngx.escape_uri's second argument).
const (
	escapeURI          = 0
	escapeArgs         = 1
	escapeURIComponent = 2
)

// escapeTables are nginx's bitmaps (one bit per byte value, set = escape) for
// ngx_escape_uri's types: uri, args, uri_component, html, refresh,
// memcached, mail_auth, header_name, header_value.
var escapeTables = [][8]uint32{
	{0xffffffff, 0x80000029, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	{0xffffffff, 0x80000829, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	{0xffffffff, 0xfc00987d, 0x78000001, 0xb8000001, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	{0xffffffff, 0x000000ad, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	{0xffffffff, 0x00000085, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	{0xffffffff, 0x00000021, 0, 0, 0, 0, 0, 0},
	{0xffffffff, 0x00000021, 0, 0, 0, 0, 0, 0},
	{0xffffffff, 0xfc009305, 0x38000001, 0xa8000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	{0xfffffdff, 0x00000000, 0x00000000, 0x80000000, 0, 0, 0, 0},
}

// EscapeURI escapes s as ngx.escape_uri(s, typ), with upper-case hex digits.
// typ 2, the default, leaves ALPHA, DIGIT, "-._~" and (as ngx_lua's table
// does) "!'()*" alone.
func EscapeURI(s string, typ int) string {
	const hexdig = "0123456789ABCDEF"
	tbl := &escapeTables[typ]
	n := 0
	for i := 0; i < len(s); i++ {
		if tbl[s[i]>>5]&(1<<(s[i]&0x1f)) != 0 {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if tbl[c>>5]&(1<<(c&0x1f)) != 0 {
			b = append(b, '%', hexdig[c>>4], hexdig[c&0xf])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// UnescapeURI is ngx.unescape_uri: "%XX" decoded, "+" read as a space, a
// malformed "%" kept as it is.
func UnescapeURI(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b = append(b, hi<<4|lo)
					i += 2
					continue
				}
			}
			b = append(b, '%')
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// ngxEncodeArgs is ngx.encode_args(t): "k=v" pairs joined by "&" in table
// order (insertion order here; unspecified in nginx), components escaped as escape_uri does; true gives a bare key, false
// omits the key, an array value repeats the key.
func ngxEncodeArgs(L *lua.LState) int {
	t := L.CheckTable(1)
	var b strings.Builder
	add := func(k string, v lua.LValue) {
		switch x := v.(type) {
		case lua.LBool:
			if !x {
				return
			}
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(EscapeURI(k, escapeURIComponent))
		case lua.LString, lua.LNumber:
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(EscapeURI(k, escapeURIComponent))
			b.WriteByte('=')
			b.WriteString(EscapeURI(x.String(), escapeURIComponent))
		default:
			L.RaiseError("attempt to use %s as query arg value", v.Type().String())
		}
	}
	// Next walks keys in insertion order (ForEach would be random)
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		var key string
		switch x := k.(type) {
		case lua.LString:
			key = string(x)
		case lua.LNumber:
			key = x.String()
		default:
			L.RaiseError("attempt to use %s as query arg key", k.Type().String())
		}
		if arr, ok := v.(*lua.LTable); ok {
			for i := 1; i <= arr.Len(); i++ {
				add(key, arr.RawGetInt(i))
			}
			continue
		}
		add(key, v)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// ngxDecodeArgs is ngx.decode_args(s, max_args=100): "+" and "%XX" decoded,
// a bare key is true, a repeated key collects its values in an array; past
// max_args (0 = no limit) the rest is dropped and "truncated" returned second.
func ngxDecodeArgs(L *lua.LState) int {
	s := luavm.CheckString(L, 1)
	max := L.OptInt(2, 100)
	t := L.NewTable()
	n := 0
	truncated := false
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		if max > 0 && n >= max {
			truncated = true
			break
		}
		k, v, hasEq := strings.Cut(part, "=")
		key := lua.LString(UnescapeURI(k))
		if key == "" {
			continue
		}
		var val lua.LValue = lua.LTrue
		if hasEq {
			val = lua.LString(UnescapeURI(v))
		}
		n++
		switch cur := t.RawGet(key).(type) {
		case *lua.LNilType:
			t.RawSet(key, val)
		case *lua.LTable:
			cur.Append(val)
		default:
			arr := L.NewTable()
			arr.Append(cur)
			arr.Append(val)
			t.RawSet(key, arr)
		}
	}
	L.Push(t)
	if truncated {
		L.Push(lua.LString("truncated"))
		return 2
	}
	return 1
}

// OpenBase64Module preloads lua-resty-core's "ngx.base64" in L:
// encode_base64url (no padding) and decode_base64url (nil, "invalid input"
// on bad input).
func OpenBase64Module(L *lua.LState) {
	L.PreloadModule("ngx.base64", func(L *lua.LState) int {
		m := L.NewTable()
		L.SetFuncs(m, map[string]lua.LGFunction{
			"encode_base64url": func(L *lua.LState) int {
				L.Push(lua.LString(base64.RawURLEncoding.EncodeToString([]byte(luavm.CheckString(L, 1)))))
				return 1
			},
			"decode_base64url": func(L *lua.LState) int {
				b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(luavm.CheckString(L, 1), "="))
				if err != nil {
					return bind.Fail(L, "invalid input")
				}
				L.Push(lua.LString(b))
				return 1
			},
		})
		L.Push(m)
		return 1
	})
}
