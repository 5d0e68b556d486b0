package pdk

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// DefaultSharedDicts are the lua_shared_dict zones Kong's nginx template
// declares (kong/templates/nginx_kong.lua), available without configuration.
var DefaultSharedDicts = []string{
	"kong", "kong_locks", "kong_healthchecks", "kong_cluster_events",
	"kong_rate_limiting_counters", "kong_core_db_cache", "kong_core_db_cache_miss",
	"kong_db_cache", "kong_db_cache_miss", "kong_secrets", "prometheus_metrics",
}

// SharedDict is one ngx.shared.DICT, shared by all workers of a Root. Values
// are strings, numbers (float64) and booleans, each with user flags and an
// optional expiry. Unlike nginx there is no memory limit, hence no LRU
// eviction (set never reports forcible = true).
type SharedDict struct {
	Name string
	mu   sync.Mutex
	m    map[string]*dictEntry
	now  func() time.Time
}

type dictEntry struct {
	val     any // string, float64 or bool
	flags   uint32
	expires time.Time // zero: never
}

func (e *dictEntry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// SharedDict returns the named dict, or nil when it is not declared.
func (r *Root) SharedDict(name string) *SharedDict {
	r.dictsOnce.Do(r.initDicts)
	return r.dicts[name]
}

// SharedDictNames lists the declared dicts, sorted.
func (r *Root) SharedDictNames() []string {
	r.dictsOnce.Do(r.initDicts)
	out := make([]string, 0, len(r.dicts))
	for k := range r.dicts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// initDicts declares Kong's default dicts plus lua_shared_dicts
// ("name [size], name [size]"; sizes are accepted and ignored).
func (r *Root) initDicts() {
	r.dicts = map[string]*SharedDict{}
	names := append([]string{}, DefaultSharedDicts...)
	if r.Conf != nil {
		for _, item := range r.Conf.List("lua_shared_dicts") {
			for _, part := range strings.Split(item, ";") {
				if f := strings.Fields(part); len(f) > 0 {
					names = append(names, f[0])
				}
			}
		}
	}
	for _, n := range names {
		r.dicts[n] = &SharedDict{Name: n, m: map[string]*dictEntry{}, now: r.now}
	}
}

func ttlDeadline(now time.Time, ttl float64) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(ttl * float64(time.Second)))
}

// Get returns the value and flags of a live key (nil when missing or expired).
func (d *SharedDict) Get(key string) (any, uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.m[key]
	if e == nil || e.expired(d.now()) {
		return nil, 0
	}
	return e.val, e.flags
}

// Set stores val (nil deletes) with a ttl in seconds (0: none).
func (d *SharedDict) Set(key string, val any, ttl float64, flags uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if val == nil {
		delete(d.m, key)
		return
	}
	d.m[key] = &dictEntry{val: val, flags: flags, expires: ttlDeadline(d.now(), ttl)}
}

// store implements set/safe_set/add/replace: mode "add" fails on a live key
// ("exists"), "replace" on a missing one ("not found").
func (d *SharedDict) store(mode, key string, val any, ttl float64, flags uint32) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.m[key]
	live := e != nil && !e.expired(now)
	switch {
	case mode == "add" && live:
		return "exists"
	case mode == "replace" && !live:
		return "not found"
	}
	if val == nil {
		delete(d.m, key)
		return ""
	}
	d.m[key] = &dictEntry{val: val, flags: flags, expires: ttlDeadline(now, ttl)}
	return ""
}

// Incr adds by to a number; a missing key starts at init when hasInit (with
// initTTL), else fails with "not found"; a non-number fails with
// "not a number".
func (d *SharedDict) Incr(key string, by float64, init float64, hasInit bool, initTTL float64) (float64, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.m[key]
	if e == nil || e.expired(now) {
		if !hasInit {
			return 0, "not found"
		}
		v := init + by
		d.m[key] = &dictEntry{val: v, expires: ttlDeadline(now, initTTL)}
		return v, ""
	}
	n, ok := e.val.(float64)
	if !ok {
		return 0, "not a number"
	}
	n += by
	e.val = n
	return n, ""
}

// TTL is the remaining time to live in seconds (0: none); ok is false for a
// missing key.
func (d *SharedDict) TTL(key string) (float64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.m[key]
	if e == nil || e.expired(now) {
		return 0, false
	}
	if e.expires.IsZero() {
		return 0, true
	}
	return math.Round(e.expires.Sub(now).Seconds()*1000) / 1000, true
}

// Expire sets a new ttl on a live key (0: none).
func (d *SharedDict) Expire(key string, ttl float64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.m[key]
	if e == nil || e.expired(now) {
		return false
	}
	e.expires = ttlDeadline(now, ttl)
	return true
}

// Delete removes a key.
func (d *SharedDict) Delete(key string) {
	d.mu.Lock()
	delete(d.m, key)
	d.mu.Unlock()
}

// FlushAll expires every key (nginx marks them expired; get_stale still sees
// them, this implementation drops them).
func (d *SharedDict) FlushAll() {
	d.mu.Lock()
	d.m = map[string]*dictEntry{}
	d.mu.Unlock()
}

// FlushExpired frees up to max expired keys (0: all) and returns how many.
func (d *SharedDict) FlushExpired(max int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	n := 0
	for k, e := range d.m {
		if max > 0 && n >= max {
			break
		}
		if e.expired(now) {
			delete(d.m, k)
			n++
		}
	}
	return n
}

// Keys lists up to max live keys (0: all), sorted.
func (d *SharedDict) Keys(max int) []string {
	d.mu.Lock()
	now := d.now()
	out := make([]string, 0, len(d.m))
	for k, e := range d.m {
		if !e.expired(now) {
			out = append(out, k)
		}
	}
	d.mu.Unlock()
	sort.Strings(out)
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}

// GetStale returns a value even when expired, and whether it was.
func (d *SharedDict) GetStale(key string) (any, uint32, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.m[key]
	if e == nil {
		return nil, 0, false
	}
	return e.val, e.flags, e.expired(d.now())
}

// --- Lua binding ---------------------------------------------------------

const sharedDictTypeName = "ngx.shared.DICT"

// newNgxShared builds ngx.shared: one userdata per declared dict, sharing
// one metatable per state.
func (in *Instance) newNgxShared() *lua.LTable {
	L := in.L
	mt := L.NewTypeMetatable(sharedDictTypeName)
	L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), sharedDictMethods))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("ngx.shared." + checkDict(L).Name))
		return 1
	}))
	t := L.NewTable()
	for _, name := range in.Root.SharedDictNames() {
		ud := L.NewUserData()
		ud.Value = in.Root.SharedDict(name)
		ud.Metatable = mt
		t.RawSetString(name, ud)
	}
	return t
}

func checkDict(L *lua.LState) *SharedDict {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if d, ok := ud.Value.(*SharedDict); ok {
			return d
		}
	}
	L.ArgError(1, "shared dict expected, got "+L.Get(1).Type().String()+" (did you use ':'?)")
	return nil
}

// checkKey reads argument 2 as a key: numbers are converted, an empty or
// nil key raises, as in lua-resty-core's shdict.
func checkKey(L *lua.LState) string {
	switch k := L.Get(2).(type) {
	case lua.LString:
		if k == "" {
			L.ArgError(2, "key must not be empty")
		}
		return string(k)
	case lua.LNumber:
		return k.String()
	case *lua.LNilType:
		L.ArgError(2, "key must not be nil")
	}
	return luavm.CheckString(L, 2)
}

// dictValue converts a Lua value into a dict value; ok is false for types a
// dict cannot hold.
func dictValue(v lua.LValue) (any, bool) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, true
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return float64(x), true
	case lua.LBool:
		return bool(x), true
	}
	return nil, false
}

func pushDictValue(L *lua.LState, v any) {
	switch x := v.(type) {
	case string:
		L.Push(lua.LString(x))
	case float64:
		L.Push(lua.LNumber(x))
	case bool:
		L.Push(lua.LBool(x))
	default:
		L.Push(lua.LNil)
	}
}

func dictStore(mode string) lua.LGFunction {
	return func(L *lua.LState) int {
		d := checkDict(L)
		key := checkKey(L)
		val, ok := dictValue(L.Get(3))
		if !ok {
			L.Push(lua.LFalse)
			L.Push(lua.LString("bad value type"))
			L.Push(lua.LFalse)
			return 3
		}
		ttl := float64(L.OptNumber(4, 0))
		if ttl < 0 {
			L.ArgError(4, "bad \"exptime\" argument")
		}
		flags := uint32(L.OptInt(5, 0))
		if msg := d.store(mode, key, val, ttl, flags); msg != "" {
			L.Push(lua.LFalse)
			L.Push(lua.LString(msg))
			L.Push(lua.LFalse)
			return 3
		}
		L.Push(lua.LTrue)
		L.Push(lua.LNil)
		L.Push(lua.LFalse)
		return 3
	}
}

var sharedDictMethods = map[string]lua.LGFunction{
	"get": func(L *lua.LState) int {
		v, flags := checkDict(L).Get(checkKey(L))
		pushDictValue(L, v)
		if flags != 0 {
			L.Push(lua.LNumber(flags))
			return 2
		}
		return 1
	},
	"get_stale": func(L *lua.LState) int {
		v, flags, stale := checkDict(L).GetStale(checkKey(L))
		pushDictValue(L, v)
		if flags != 0 {
			L.Push(lua.LNumber(flags))
		} else {
			L.Push(lua.LNil)
		}
		L.Push(lua.LBool(stale))
		return 3
	},
	"set":      dictStore("set"),
	"safe_set": dictStore("set"),
	"add":      dictStore("add"),
	"safe_add": dictStore("add"),
	"replace":  dictStore("replace"),
	"incr": func(L *lua.LState) int {
		d := checkDict(L)
		key := checkKey(L)
		by := float64(L.CheckNumber(3))
		hasInit := L.Get(4) != lua.LNil
		init := float64(L.OptNumber(4, 0))
		initTTL := float64(L.OptNumber(5, 0))
		if initTTL < 0 {
			L.ArgError(5, "bad \"init_ttl\" argument")
		}
		n, msg := d.Incr(key, by, init, hasInit, initTTL)
		if msg != "" {
			L.Push(lua.LNil)
			L.Push(lua.LString(msg))
			return 2
		}
		L.Push(lua.LNumber(n))
		L.Push(lua.LNil)
		L.Push(lua.LFalse)
		return 3
	},
	"delete": func(L *lua.LState) int {
		checkDict(L).Delete(checkKey(L))
		L.Push(lua.LTrue)
		return 1
	},
	"flush_all": func(L *lua.LState) int { checkDict(L).FlushAll(); return 0 },
	"flush_expired": func(L *lua.LState) int {
		L.Push(lua.LNumber(checkDict(L).FlushExpired(L.OptInt(2, 0))))
		return 1
	},
	"get_keys": func(L *lua.LState) int {
		keys := checkDict(L).Keys(L.OptInt(2, 1024))
		t := L.CreateTable(len(keys), 0)
		for _, k := range keys {
			t.Append(lua.LString(k))
		}
		L.Push(t)
		return 1
	},
	"ttl": func(L *lua.LState) int {
		ttl, ok := checkDict(L).TTL(checkKey(L))
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LString("not found"))
			return 2
		}
		L.Push(lua.LNumber(ttl))
		return 1
	},
	"expire": func(L *lua.LState) int {
		d := checkDict(L)
		key := checkKey(L)
		ttl := float64(L.OptNumber(3, 0))
		if ttl < 0 {
			L.ArgError(3, "bad \"exptime\" argument")
		}
		if !d.Expire(key, ttl) {
			L.Push(lua.LNil)
			L.Push(lua.LString("not found"))
			return 2
		}
		L.Push(lua.LTrue)
		return 1
	},
	"capacity":   func(L *lua.LState) int { L.Push(lua.LNumber(5 << 20)); return 1 },
	"free_space": func(L *lua.LState) int { L.Push(lua.LNumber(5 << 20)); return 1 },
}
