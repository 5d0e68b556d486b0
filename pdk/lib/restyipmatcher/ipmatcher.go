// Package restyipmatcher is the module resty.ipmatcher (lua-resty-ipmatcher
// 0.6), Go-backed with net/netip: new(list) / new_with_value(map) build a
// matcher of IPv4/IPv6 addresses and CIDR ranges; matcher:match(ip) and
// matcher:match_bin(binary_addr) answer true (or the entry's value) /
// false, or false and an error for a malformed address. An IPv4-mapped
// IPv6 address does not match IPv4 entries (upstream keeps the families
// apart too).
package restyipmatcher

import (
	"net/netip"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

const ipMatcherType = "luahost.resty.ipmatcher"

type ipEntry struct {
	prefix netip.Prefix
	value  lua.LValue
}

type ipMatcher struct {
	entries []ipEntry
}

func parseIPEntry(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

func (m *ipMatcher) lookup(a netip.Addr) lua.LValue {
	for _, e := range m.entries {
		if e.prefix.Contains(a) {
			return e.value
		}
	}
	return lua.LFalse
}

// Open registers the preloaded module "resty.ipmatcher" in L.
func Open(L *lua.LState) {
	mt := L.NewTypeMetatable(ipMatcherType)
	check := func(L *lua.LState) *ipMatcher { return bind.CheckUserData[*ipMatcher](L, 1, "ipmatcher expected") }
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"match": func(L *lua.LState) int {
			m := check(L)
			s := luavm.CheckString(L, 2)
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				L.Push(lua.LFalse)
				L.Push(lua.LString("invalid ip address: " + s))
				return 2
			}
			L.Push(m.lookup(a))
			return 1
		},
		"match_bin": func(L *lua.LState) int {
			m := check(L)
			a, ok := netip.AddrFromSlice([]byte(luavm.CheckString(L, 2)))
			if !ok {
				L.Push(lua.LFalse)
				L.Push(lua.LString("invalid binary ip address"))
				return 2
			}
			L.Push(m.lookup(a))
			return 1
		},
	}))

	build := func(L *lua.LState, entries []ipEntry) int {
		ud := bind.NewUserData(L, &ipMatcher{entries: entries}, mt)
		L.Push(ud)
		return 1
	}
	fail := func(L *lua.LState, ip string) int {
		return bind.Fail(L, "invalid ip address: "+ip)
	}

	L.PreloadModule("resty.ipmatcher", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			// new(list): list is an array of address / CIDR strings.
			"new": func(L *lua.LState) int {
				list := L.CheckTable(1)
				var entries []ipEntry
				for i := 1; i <= list.Len(); i++ {
					s, ok := list.RawGetInt(i).(lua.LString)
					if !ok {
						return fail(L, luavm.TostringValue(L, list.RawGetInt(i)).String())
					}
					p, ok := parseIPEntry(string(s))
					if !ok {
						return fail(L, string(s))
					}
					entries = append(entries, ipEntry{prefix: p, value: lua.LTrue})
				}
				return build(L, entries)
			},
			// new_with_value(map): keys are addresses / CIDRs, values what
			// match returns for them. The most specific prefix wins.
			"new_with_value": func(L *lua.LState) int {
				tbl := L.CheckTable(1)
				var entries []ipEntry
				bad := ""
				tbl.ForEach(func(k, v lua.LValue) {
					if bad != "" {
						return
					}
					s, ok := k.(lua.LString)
					p, ok2 := parseIPEntry(string(s))
					if !ok || !ok2 {
						bad = luavm.TostringValue(L, k).String()
						return
					}
					entries = append(entries, ipEntry{prefix: p, value: v})
				})
				if bad != "" {
					return fail(L, bad)
				}
				// longest prefix first so lookup's first hit is the most
				// specific one.
				for i := 1; i < len(entries); i++ {
					for j := i; j > 0 && entries[j].prefix.Bits() > entries[j-1].prefix.Bits(); j-- {
						entries[j], entries[j-1] = entries[j-1], entries[j]
					}
				}
				return build(L, entries)
			},
		})
		mod.RawSetString("_VERSION", lua.LString("0.6"))
		L.Push(mod)
		return 1
	})
}
