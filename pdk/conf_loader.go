package pdk

import (
	"errors"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/proxy"
)

// confDefaultPaths are Kong's conf_constants.DEFAULT_PATHS: where
// conf_loader looks for a file when given none.
var confDefaultPaths = []string{"/etc/kong/kong.conf", "/etc/kong.conf"}

// openConfLoader preloads kong.conf_loader: called as conf_loader(path,
// custom_conf, opts) it is Kong's load, and it has load,
// load_config_file and add_default_path. The configuration is built as
// luahost builds its own (package conf: defaults, the file, KONG_*
// variables, then custom_conf; conf.Check's refusals) and answered as a
// plain table with kong.configuration's types, plus what Kong derives:
// loaded_plugins, the *_listeners and *_ssl_enabled.
func openConfLoader(in *Instance) {
	paths := append([]string(nil), confDefaultPaths...)
	in.L.PreloadModule("kong.conf_loader", func(L *lua.LState) int {
		load := L.NewFunction(func(L *lua.LState) int { return confLoad(L, 1, paths) })
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"load_config_file": confLoadFile,
			"add_default_path": func(L *lua.LState) int {
				paths = append(paths, L.CheckString(1))
				return 0
			},
		})
		mod.RawSetString("load", load)
		mt := L.NewTable()
		mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int { return confLoad(L, 2, paths) }))
		mod.Metatable = mt
		L.Push(mod)
		return 1
	})
}

// confLoad is load(path?, custom_conf?, opts?), its arguments from base on
// (2 when called through __call).
func confLoad(L *lua.LState, base int, defaults []string) int {
	fail := func(msg string) int {
		L.Push(lua.LNil)
		L.Push(lua.LString(msg))
		return 2
	}
	c := conf.New()
	path := ""
	switch v := L.Get(base).(type) {
	case lua.LString:
		path = string(v)
		if _, err := os.Stat(path); err != nil {
			return fail("no file at: " + path)
		}
	case *lua.LNilType:
		for _, p := range defaults {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	default:
		L.ArgError(base, "string expected, got "+v.Type().String())
	}
	if path != "" {
		if err := c.LoadFile(path); err != nil {
			return fail("could not load config file: " + err.Error())
		}
	}
	c.LoadEnv(os.Environ())
	if t, ok := L.Get(base + 1).(*lua.LTable); ok {
		t.ForEach(func(k, v lua.LValue) {
			if ks, ok := k.(lua.LString); ok {
				c.Set(string(ks), customConfValue(v), "custom_conf")
			}
		})
	}
	if err := c.Check(); err != nil {
		return fail(err.Error())
	}
	t := L.NewTable()
	for _, k := range c.Keys() {
		if v := confValue(L, c, k); v != lua.LNil {
			t.RawSetString(k, v)
		}
	}
	t.RawSetString("loaded_plugins", confValue(L, c, "loaded_plugins"))
	for _, l := range []struct{ name, plural, sslFlag string }{
		{"proxy_listen", "proxy_listeners", "proxy_ssl_enabled"},
		{"admin_listen", "admin_listeners", "admin_ssl_enabled"},
		{"status_listen", "status_listeners", "status_ssl_enabled"},
		{"stream_listen", "stream_listeners", "stream_proxy_ssl_enabled"},
	} {
		list, ssl, err := confListeners(L, l.name, c.Get(l.name))
		if err != nil {
			return fail(err.Error())
		}
		t.RawSetString(l.plural, list)
		t.RawSetString(l.sslFlag, lua.LBool(ssl))
	}
	L.Push(t)
	return 1
}

// customConfValue is a custom_conf value as a kong.conf string: arrays
// comma-joined, booleans on/off.
func customConfValue(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LBool:
		if v {
			return "on"
		}
		return "off"
	case *lua.LTable:
		var parts []string
		for i := 1; i <= v.Len(); i++ {
			parts = append(parts, customConfValue(v.RawGetInt(i)))
		}
		return strings.Join(parts, ",")
	}
	return v.String()
}

// confFlagOrder is the order of Kong's listener flags (listeners.lua's
// subsystem_flags), in which a listener's "listener" string names them.
var confFlagOrder = []string{"udp", "ssl", "http2", "proxy_protocol", "deferred", "bind", "reuseport", "backlog=",
	"ipv6only=", "so_keepalive="}

func flagRank(f string) int {
	for i, p := range confFlagOrder {
		if f == p || (strings.HasSuffix(p, "=") && strings.HasPrefix(f, p)) {
			return i
		}
	}
	return len(confFlagOrder)
}

// confListeners is Kong's <name>ers list for a *_listen value: each entry
// with ip, port, listener (address and flags, http2 left out) and its
// flags as booleans; and whether one entry has ssl. stream_listen takes
// udp too.
func confListeners(L *lua.LState, name, value string) (*lua.LTable, bool, error) {
	list := L.NewTable()
	if strings.TrimSpace(value) == "" {
		// not among luahost's defaults (stream_listen): Kong's "off"
		return list, false, nil
	}
	var udp []bool
	if name == "stream_listen" {
		// udp is a stream flag only; proxy.ParseListen knows the http ones
		var entries []string
		for _, e := range strings.Split(value, ",") {
			fields := strings.Fields(e)
			var kept []string
			isUDP := false
			for _, f := range fields {
				if f == "udp" {
					isUDP = true
					continue
				}
				kept = append(kept, f)
			}
			udp = append(udp, isUDP)
			entries = append(entries, strings.Join(kept, " "))
		}
		value = strings.Join(entries, ", ")
	}
	ls, err := proxy.ParseListen(name, value)
	if err != nil {
		return nil, false, err
	}
	anySSL := false
	for i, l := range ls {
		host, port, err := net.SplitHostPort(l.Addr)
		if err != nil {
			return nil, false, errors.New(name + ": " + err.Error())
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		e := L.NewTable()
		e.RawSetString("ip", lua.LString(host))
		if n, err := strconv.Atoi(port); err == nil {
			e.RawSetString("port", lua.LNumber(n))
		}
		flags := append([]string(nil), l.Flags...)
		if len(udp) > i && udp[i] {
			flags = append(flags, "udp")
		}
		for _, f := range []struct {
			name string
			on   bool
		}{{"ssl", l.SSL}, {"http2", l.HTTP2}, {"reuseport", l.ReusePort}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		if l.Backlog > 0 {
			flags = append(flags, "backlog="+strconv.Itoa(l.Backlog))
		}
		sort.SliceStable(flags, func(a, b int) bool { return flagRank(flags[a]) < flagRank(flags[b]) })
		for _, f := range []string{"ssl", "http2", "proxy_protocol", "deferred", "bind", "reuseport"} {
			e.RawSetString(f, lua.LFalse)
		}
		if name == "stream_listen" {
			e.RawSetString("udp", lua.LFalse)
		}
		cleaned := []string{host + ":" + port}
		for _, f := range flags {
			e.RawSetString(f, lua.LTrue)
			if f != "http2" {
				cleaned = append(cleaned, f)
			}
		}
		e.RawSetString("listener", lua.LString(strings.Join(cleaned, " ")))
		anySSL = anySSL || l.SSL
		list.Append(e)
	}
	return list, anySSL, nil
}

// confLoadFile is load_config_file(path): the file's properties alone, as
// strings (no defaults, no environment), or nil and the error.
func confLoadFile(L *lua.LState) int {
	props, err := conf.ReadFile(L.CheckString(1))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	t := L.NewTable()
	for _, p := range props {
		t.RawSetString(strings.ToLower(strings.TrimSpace(p[0])), lua.LString(p[1]))
	}
	L.Push(t)
	return 1
}
