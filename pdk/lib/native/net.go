package native

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
)

// The kong.tools.ip and header-name rules for the embedded Lua shims
// (host/lua/kong/tools/ip.lua, http.lua, string.lua): Kong's rules are
// defined once, in kongdb/schema, where the typedefs' validators use them,
// and these luahost.native functions hand them to Lua.
func init() {
	for name, pred := range map[string]func(string) bool{
		"is_valid_ipv4":          schema.IsValidIPv4,
		"is_valid_ipv6":          schema.IsValidIPv6,
		"is_valid_ip":            schema.IsValidIP,
		"is_valid_cidr_v4":       schema.IsValidCIDRv4,
		"is_valid_cidr_v6":       schema.IsValidCIDRv6,
		"is_valid_cidr":          schema.IsValidCIDR,
		"is_valid_ip_or_cidr_v4": schema.IsValidIPOrCIDRv4,
		"is_valid_ip_or_cidr_v6": schema.IsValidIPOrCIDRv6,
		"is_valid_ip_or_cidr":    schema.IsValidIPOrCIDR,
	} {
		nativeFuncs[name] = ipPredicate(pred)
	}
	nativeFuncs["hostname_type"] = func(L *lua.LState) int {
		L.Push(lua.LString(schema.HostnameType(luavm.CheckString(L, 1))))
		return 1
	}
	nativeFuncs["normalize_ipv4"] = hostNormalizer(schema.NormalizeIPv4)
	nativeFuncs["normalize_ipv6"] = hostNormalizer(schema.NormalizeIPv6)
	nativeFuncs["check_hostname"] = hostNormalizer(schema.CheckHostname)
	nativeFuncs["validate_name"] = nameValidator(func(L *lua.LState, s string) string {
		return schema.ValidateName(luavm.CheckString(L, 1), s)
	}, 2)
	nativeFuncs["validate_http_token"] = nameValidator(func(_ *lua.LState, s string) string {
		return schema.ValidateHTTPToken(s)
	}, 1)
}

// ipPredicate is an is_valid_* function: false for anything but a string,
// as Kong's (its validate() checks the type first).
func ipPredicate(pred func(string) bool) lua.LGFunction {
	return func(L *lua.LState) int {
		s, ok := L.Get(1).(lua.LString)
		L.Push(lua.LBool(ok && pred(string(s))))
		return 1
	}
}

// hostNormalizer is normalize_ipv4, normalize_ipv6 or check_hostname:
// host and port (nil without one), or nil and Kong's message.
func hostNormalizer(norm func(string) (schema.NormalizedHost, string)) lua.LGFunction {
	return func(L *lua.LState) int {
		h, msg := norm(luavm.CheckString(L, 1))
		if msg != "" {
			L.Push(lua.LNil)
			L.Push(lua.LString(msg))
			return 2
		}
		L.Push(lua.LString(h.Host))
		if h.HasPort {
			L.Push(lua.LNumber(h.Port))
		} else {
			L.Push(lua.LNil)
		}
		return 2
	}
}

// nameValidator returns the value at argument arg when check finds nothing
// wrong with it (Kong returns the name it was given), else nil and the
// message; nil and "" are "not provided".
func nameValidator(check func(L *lua.LState, s string) string, arg int) lua.LGFunction {
	return func(L *lua.LState) int {
		v := L.Get(arg)
		s := ""
		if v != lua.LNil {
			s = luavm.CheckString(L, arg)
		}
		if msg := check(L, s); msg != "" {
			L.Push(lua.LNil)
			L.Push(lua.LString(msg))
			return 2
		}
		L.Push(v)
		return 1
	}
}
