package pdk

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// DefaultVersion is the Kong version luahost reports (kong.version,
// kong.meta) when Root.Version is empty.
const DefaultVersion = "3.9.1"

// ctxKeys are private keys inside ngx.ctx (tables, so no string key of a
// plugin can collide): kong.ctx.shared, the kong.ctx.plugin namespaces and
// kong.log's serialize values.
type ctxKeys struct {
	shared, plugins, serialize *lua.LTable
}

var (
	processNodeIDOnce sync.Once
	processNodeID     string
)

// NodeIDValue is kong.node.get_id(): Root.NodeID or one UUID per process.
func (r *Root) NodeIDValue() string {
	if r.NodeID != "" {
		return r.NodeID
	}
	processNodeIDOnce.Do(func() { processNodeID = uuid.NewString() })
	return processNodeID
}

// VersionString is kong.version.
func (r *Root) VersionString() string {
	if r.Version != "" {
		return r.Version
	}
	return DefaultVersion
}

// VersionNum is kong.version_num: major*1000000 + minor*1000 + patch.
func VersionNum(v string) int {
	parts := strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3)
	n := 0
	for i, mul := range []int{1000000, 1000, 1} {
		if i < len(parts) {
			d, _ := strconv.Atoi(parts[i])
			n += d * mul
		}
	}
	return n
}

// openKong installs the global kong with kong.log, kong.version,
// kong.version_num, kong.configuration, kong.ctx, kong.node and kong.table,
// plus the preloaded modules luahost.native and LuaJIT's table.new,
// table.clear, table.nkeys, table.isempty, table.isarray, table.clone.
// Others (kong.db, kong.cache, kong.request ...) are added by their files.
func openKong(in *Instance) {
	L := in.L
	in.ctxKeys = ctxKeys{shared: L.NewTable(), plugins: L.NewTable(), serialize: L.NewTable()}
	kong := L.NewTable()
	kong.RawSetString("version", lua.LString(in.Root.VersionString()))
	kong.RawSetString("version_num", lua.LNumber(VersionNum(in.Root.VersionString())))
	kong.RawSetString("log", in.newKongLog())
	kong.RawSetString("configuration", in.newKongConfiguration())
	kong.RawSetString("ctx", in.newKongCtx())

	node := L.NewTable()
	L.SetFuncs(node, map[string]lua.LGFunction{
		"get_id": func(L *lua.LState) int { L.Push(lua.LString(in.Root.NodeIDValue())); return 1 },
		"get_hostname": func(L *lua.LState) int {
			h, _ := os.Hostname()
			L.Push(lua.LString(h))
			return 1
		},
	})
	kong.RawSetString("node", node)

	tbl := L.NewTable()
	newTab := func(L *lua.LState) int { return tableNew(L, in) }
	L.SetFuncs(tbl, map[string]lua.LGFunction{"new": newTab, "clear": tableClear})
	kong.RawSetString("table", tbl)
	L.SetGlobal("kong", kong)

	// LuaJIT's table extensions, each a module returning one function
	for name, fn := range map[string]lua.LGFunction{
		"table.new": newTab, "table.clear": tableClear, "table.nkeys": tableNkeys,
		"table.isempty": tableIsEmpty, "table.isarray": tableIsArray, "table.clone": tableClone,
	} {
		L.PreloadModule(name, func(L *lua.LState) int { L.Push(L.NewFunction(fn)); return 1 })
	}
	L.PreloadModule("luahost.native", func(L *lua.LState) int {
		m := L.NewTable()
		L.SetFuncs(m, nativeFuncs)
		m.RawSetString("version", lua.LString(in.Root.VersionString()))
		m.RawSetString("random_bytes", L.NewFunction(func(L *lua.LState) int { return randomBytes(L, in) }))
		// clock readers follow Root.Now (tests)
		m.RawSetString("now_ms", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LNumber(float64(in.Root.now().UnixMicro()) / 1000))
			return 1
		}))
		m.RawSetString("timestamps", L.NewFunction(func(L *lua.LState) int {
			ms := float64(L.OptNumber(1, lua.LNumber(in.Root.now().UnixMilli())))
			pushTimestamps(L, ms)
			return 1
		}))
		L.Push(m)
		return 1
	})
}

// tableNew is LuaJIT's table.new(narr, nrec), the preallocation charged
// to the worker's memory budget ("not enough memory" past it, as LuaJIT
// when the allocation fails).
func tableNew(L *lua.LState, in *Instance) int {
	L.Push(in.budget.NewTable(L, bind.SizeArg(L, 1, 0), bind.SizeArg(L, 2, 0)))
	return 1
}

// tableClear is LuaJIT's table.clear(t).
func tableClear(L *lua.LState) int {
	t := L.CheckTable(1)
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	for _, k := range keys {
		t.RawSet(k, lua.LNil)
	}
	return 0
}

// tableNkeys is LuaJIT's table.nkeys(t): the number of keys.
func tableNkeys(L *lua.LState) int {
	n := 0
	L.CheckTable(1).ForEach(func(_, _ lua.LValue) { n++ })
	L.Push(lua.LNumber(n))
	return 1
}

// tableIsEmpty is LuaJIT's table.isempty(t).
func tableIsEmpty(L *lua.LState) int {
	k, _ := L.CheckTable(1).Next(lua.LNil)
	L.Push(lua.LBool(k == lua.LNil))
	return 1
}

// tableIsArray is LuaJIT's table.isarray(t): every key a positive integer
// (holes allowed); an empty table is an array.
func tableIsArray(L *lua.LState) int {
	ok := true
	L.CheckTable(1).ForEach(func(k, _ lua.LValue) {
		if n, isNum := k.(lua.LNumber); !isNum || n < 1 || float64(n) != float64(int64(n)) {
			ok = false
		}
	})
	L.Push(lua.LBool(ok))
	return 1
}

// tableClone is LuaJIT's table.clone(t): a shallow copy without metatable.
func tableClone(L *lua.LState) int {
	src := L.CheckTable(1)
	dst := L.CreateTable(src.Len(), 0)
	for k, v := src.Next(lua.LNil); k != lua.LNil; k, v = src.Next(k) {
		dst.RawSet(k, v)
	}
	L.Push(dst)
	return 1
}

// randomBytes is luahost.native.random_bytes(n) (kong.tools.rand's
// get_rand_bytes): n bytes from crypto/rand, charged to the budget.
func randomBytes(L *lua.LState, in *Instance) int {
	n := bind.ClampSize(float64(L.CheckNumber(1)))
	if n < 0 {
		L.ArgError(1, "must be non-negative")
	}
	in.Reserve(L, n, 1)
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
	"sha256": func(L *lua.LState) int {
		sum := sha256.Sum256([]byte(luavm.CheckString(L, 1)))
		L.Push(lua.LString(sum[:]))
		return 1
	},
	"validate_utf8": func(L *lua.LState) int { L.Push(lua.LBool(utf8.ValidString(luavm.CheckString(L, 1)))); return 1 },
	"parse_ipv4": func(L *lua.LState) int {
		a, err := netip.ParseAddr(luavm.CheckString(L, 1))
		L.Push(lua.LBool(err == nil && a.Is4()))
		return 1
	},
	"parse_ipv6": func(L *lua.LState) int {
		a, err := netip.ParseAddr(luavm.CheckString(L, 1))
		L.Push(lua.LBool(err == nil && a.Is6() && a.Zone() == ""))
		return 1
	},
	"deflate_gzip": func(L *lua.LState) int {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(luavm.CheckString(L, 1)))
		w.Close()
		L.Push(lua.LString(buf.String()))
		return 1
	},
	"inflate_gzip": func(L *lua.LState) int {
		r, err := gzip.NewReader(strings.NewReader(luavm.CheckString(L, 1)))
		if err == nil {
			var out []byte
			if out, err = io.ReadAll(r); err == nil {
				L.Push(lua.LString(out))
				return 1
			}
		}
		return bind.Fail(L, err.Error())
	},
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

// newKongConfiguration is kong.configuration: a read-only view of the
// configuration with Kong's types: booleans for on/off properties, numbers
// for numeric ones, arrays for list ones, nil for unset (empty) ones.
func (in *Instance) newKongConfiguration() *lua.LTable {
	L := in.L
	t := L.NewTable()
	mt := L.NewTable()
	cache := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := luavm.CheckString(L, 2)
		if v := cache.RawGetString(k); v != lua.LNil {
			L.Push(v)
			return 1
		}
		v := confValue(L, in, k)
		cache.RawSetString(k, v)
		L.Push(v)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot write to Kong configuration")
		return 0
	}))
	t.Metatable = mt
	return t
}

// confListProps and confNumberProps are the typed properties of Kong's
// conf_loader that luahost knows (others read as strings).
var (
	confListProps = map[string]bool{
		"plugins": true, "plugins_dir": true, "proxy_listen": true, "admin_listen": true,
		"status_listen": true, "stream_listen": true, "db_cache_warmup_entities": true,
		"trusted_ips": true, "headers": true, "headers_upstream": true, "lua_shared_dicts": true,
		"dns_order": true, "dns_resolver": true, "lua_ssl_trusted_certificate": true,
		"loaded_plugins": true,
	}
	confNumberProps = map[string]bool{
		"pg_port": true, "pg_timeout": true, "pg_max_concurrent_queries": true,
		"pg_semaphore_timeout": true, "pg_keepalive_timeout": true, "pg_pool_size": true,
		"db_cache_ttl": true, "db_cache_neg_ttl": true, "db_resurrect_ttl": true,
		"db_update_frequency": true, "db_update_propagation": true, "lua_timeout": true,
		"worker_min": true, "worker_max": true, "upstream_keepalive_pool_size": true,
	}
	confBoolProps = map[string]bool{
		"pg_ssl": true, "pg_ssl_verify": true, "pg_notify": true, "anonymous_reports": true,
		"real_ip_recursive": true,
	}
)

func confValue(L *lua.LState, in *Instance, k string) lua.LValue {
	c := in.Root.Conf
	if c == nil {
		return lua.LNil
	}
	if k == "loaded_plugins" {
		// Kong's loaded_plugins is a set of plugin names
		set := L.NewTable()
		for _, p := range c.List("plugins") {
			set.RawSetString(p, lua.LTrue)
		}
		return set
	}
	raw := c.Get(k)
	if !c.Has(k) {
		return lua.LNil
	}
	switch {
	case confListProps[k]:
		arr := L.NewTable()
		for _, p := range c.List(k) {
			arr.Append(lua.LString(p))
		}
		return arr
	case raw == "":
		return lua.LNil
	case confBoolProps[k]:
		return lua.LBool(c.Bool(k))
	case confNumberProps[k]:
		if f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err == nil {
			return lua.LNumber(f)
		}
	}
	return lua.LString(raw)
}

// newKongCtx is kong.ctx: kong.ctx.shared (per request) and kong.ctx.plugin
// (per request and plugin, keyed by Instance.PluginName), both kept inside
// ngx.ctx so that resetting ngx.ctx resets them.
func (in *Instance) newKongCtx() *lua.LTable {
	L := in.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		switch luavm.CheckString(L, 2) {
		case "shared":
			L.Push(in.ctxTable(in.ctxKeys.shared))
			return 1
		case "plugin":
			ns := in.ctxTable(in.ctxKeys.plugins)
			key := lua.LString(in.PluginName)
			p, ok := ns.RawGet(key).(*lua.LTable)
			if !ok {
				p = L.NewTable()
				ns.RawSet(key, p)
			}
			L.Push(p)
			return 1
		}
		return 0
	}))
	t.Metatable = mt
	return t
}

// ctxTable returns (creating it) the table stored in ngx.ctx under key.
func (in *Instance) ctxTable(key *lua.LTable) *lua.LTable {
	if t, ok := in.CurrentCtx().RawGet(key).(*lua.LTable); ok {
		return t
	}
	t := in.L.NewTable()
	in.CurrentCtx().RawSet(key, t)
	return t
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
