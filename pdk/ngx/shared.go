package ngx

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
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
// optional expiry. Like OpenResty's lua_shared_dict, a dict holds at most
// its configured size: set, add, replace and incr make room by evicting the
// least recently used entries (reporting forcible = true when a live one
// went), safe_set and safe_add fail with "no memory" instead. Expired
// entries are removed lazily (a few from the cold end on each write, all
// of them on flush_expired); get_stale still sees those not yet removed.
type SharedDict struct {
	Name string
	// Capacity is the dict's size in bytes (lua_shared_dicts' size).
	Capacity int64

	mu   sync.Mutex
	m    map[string]*dictEntry
	used int64     // bytes held by entries (dictEntrySize)
	lru  dictEntry // sentinel: lru.next is the most recently used
	now  func() time.Time
}

type dictEntry struct {
	key        string
	val        any // string, float64 or bool
	flags      uint32
	expires    time.Time // zero: never
	size       int64
	prev, next *dictEntry
}

func (e *dictEntry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// dictEntryOverhead is what nginx's shared-memory node costs besides key and
// value (rbtree node, queue links, lengths), roughly.
const dictEntryOverhead = 64

func dictEntrySize(key string, val any) int64 {
	n := int64(len(key)) + dictEntryOverhead
	if s, ok := val.(string); ok {
		n += int64(len(s))
	} else {
		n += 8
	}
	return n
}

// DefaultSharedDictSize is the size of a dict declared without one.
const DefaultSharedDictSize = 5 << 20

// kongDictSizes are the sizes Kong's nginx template gives its dicts
// (kong/templates/nginx_kong.lua); the db caches follow mem_cache_size.
var kongDictSizes = map[string]int{
	"kong_locks": 8 << 20, "kong_rate_limiting_counters": 12 << 20,
	"kong_core_db_cache_miss": 12 << 20, "kong_db_cache_miss": 12 << 20,
}

// NewSharedDict returns an empty dict of capacity bytes whose expiries
// read the clock now.
func NewSharedDict(name string, capacity int64, now func() time.Time) *SharedDict {
	d := &SharedDict{Name: name, Capacity: capacity, m: map[string]*dictEntry{}, now: now}
	d.lru.next, d.lru.prev = &d.lru, &d.lru
	return d
}

// DeclaredDicts are Kong's default dicts plus c's lua_shared_dicts
// ("name [size], name [size]"; sizes as nginx writes them: 10m, 512k),
// empty, their expiries reading the clock now. c may be nil (defaults
// only).
func DeclaredDicts(c *conf.Config, now func() time.Time) map[string]*SharedDict {
	dicts := map[string]*SharedDict{}
	sizes := map[string]int64{}
	for _, n := range DefaultSharedDicts {
		size := int64(DefaultSharedDictSize)
		if s, ok := kongDictSizes[n]; ok {
			size = int64(s)
		}
		if (n == "kong_db_cache" || n == "kong_core_db_cache") && c != nil {
			size = int64(c.Size("mem_cache_size", 128<<20))
		}
		sizes[n] = size
	}
	if c != nil {
		for _, item := range c.List("lua_shared_dicts") {
			for _, part := range strings.Split(item, ";") {
				if f := strings.Fields(part); len(f) > 0 {
					size := int64(DefaultSharedDictSize)
					if len(f) > 1 {
						if n := parseNginxSize(f[1]); n > 0 {
							size = n
						}
					}
					sizes[f[0]] = size
				}
			}
		}
	}
	for n, size := range sizes {
		dicts[n] = NewSharedDict(n, size, now)
	}
	return dicts
}

// parseNginxSize reads an nginx size (1024, 512k, 10m, 1g); 0 when invalid.
func parseNginxSize(s string) int64 {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k':
			mult, s = 1<<10, s[:len(s)-1]
		case 'm':
			mult, s = 1<<20, s[:len(s)-1]
		case 'g':
			mult, s = 1<<30, s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0
	}
	return n * mult
}

func ttlDeadline(now time.Time, ttl float64) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	if ttl > 1e9 { // beyond 30 years: never, rather than an overflowing Duration
		return time.Time{}
	}
	return now.Add(time.Duration(ttl * float64(time.Second)))
}

// The LRU list; callers hold d.mu.

func (d *SharedDict) unlink(e *dictEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (d *SharedDict) pushFront(e *dictEntry) {
	e.prev, e.next = &d.lru, d.lru.next
	d.lru.next.prev = e
	d.lru.next = e
}

func (d *SharedDict) touch(e *dictEntry) {
	if d.lru.next != e {
		d.unlink(e)
		d.pushFront(e)
	}
}

func (d *SharedDict) remove(e *dictEntry) {
	d.unlink(e)
	delete(d.m, e.key)
	d.used -= e.size
}

// expireSome removes up to n expired entries from the cold end, stopping
// at the first live one, as nginx does on each write (constant time: the
// rest wait for their turn or for flush_expired).
func (d *SharedDict) expireSome(now time.Time, n int, keep *dictEntry) {
	for e := d.lru.prev; e != &d.lru && n > 0 && e != keep && e.expired(now); e = d.lru.prev {
		d.remove(e)
		n--
	}
}

// makeRoom frees space for need more bytes, replacing old (an entry being
// overwritten, or nil): expired entries at the cold end go first, then,
// when evict, the least recently used live ones. It reports whether the
// room is there and whether a live entry was evicted.
func (d *SharedDict) makeRoom(now time.Time, need int64, old *dictEntry, evict bool) (ok, forcible bool) {
	if need > d.Capacity {
		return false, false
	}
	free := func() int64 {
		f := d.Capacity - d.used
		if old != nil {
			f += old.size
		}
		return f
	}
	if free() >= need {
		return true, false
	}
	d.expireSome(now, math.MaxInt, old)
	for e := d.lru.prev; e != &d.lru && free() < need && evict; {
		prev := e.prev
		if e != old {
			d.remove(e)
			forcible = forcible || !e.expired(now)
		}
		e = prev
	}
	return free() >= need, forcible
}

// put stores key = val in place of old (may be nil); callers made room.
func (d *SharedDict) put(key string, val any, flags uint32, expires time.Time, old *dictEntry) {
	size := dictEntrySize(key, val)
	if old != nil {
		d.used += size - old.size
		old.val, old.flags, old.expires, old.size = val, flags, expires, size
		d.touch(old)
		return
	}
	e := &dictEntry{key: key, val: val, flags: flags, expires: expires, size: size}
	d.m[key] = e
	d.used += size
	d.pushFront(e)
}

// Get returns the value and flags of a live key (nil when missing or
// expired); a hit makes the key the most recently used.
func (d *SharedDict) Get(key string) (any, uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.m[key]
	if e == nil || e.expired(d.now()) {
		return nil, 0
	}
	d.touch(e)
	return e.val, e.flags
}

// Set stores val (nil deletes) with a ttl in seconds (0: none), evicting
// as needed.
func (d *SharedDict) Set(key string, val any, ttl float64, flags uint32) {
	d.store("set", key, val, ttl, flags)
}

// store implements set/safe_set/add/safe_add/replace: mode "add" fails on
// a live key ("exists"), "replace" on a missing one ("not found"); the
// safe_ modes fail with "no memory" rather than evict a live entry.
// forcible reports that live entries were evicted to make room.
func (d *SharedDict) store(mode, key string, val any, ttl float64, flags uint32) (msg string, forcible bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.m[key]
	live := e != nil && !e.expired(now)
	switch {
	case (mode == "add" || mode == "safe_add") && live:
		return "exists", false
	case mode == "replace" && !live:
		return "not found", false
	}
	if val == nil {
		if e != nil {
			d.remove(e)
		}
		return "", false
	}
	d.expireSome(now, 2, e)
	ok, forcible := d.makeRoom(now, dictEntrySize(key, val), e, mode != "safe_set" && mode != "safe_add")
	if !ok {
		return "no memory", forcible
	}
	d.put(key, val, flags, ttlDeadline(now, ttl), e)
	return "", forcible
}

// Incr adds by to a number; a missing key starts at init when hasInit (with
// initTTL), else fails with "not found"; a non-number fails with
// "not a number".
func (d *SharedDict) Incr(key string, by float64, init float64, hasInit bool, initTTL float64) (float64, string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.m[key]
	if e == nil || e.expired(now) {
		if !hasInit {
			return 0, "not found", false
		}
		v := init + by
		ok, forcible := d.makeRoom(now, dictEntrySize(key, v), e, true)
		if !ok {
			return 0, "no memory", forcible
		}
		d.put(key, v, 0, ttlDeadline(now, initTTL), e)
		return v, "", forcible
	}
	n, ok := e.val.(float64)
	if !ok {
		return 0, "not a number", false
	}
	n += by
	e.val = n
	d.touch(e)
	return n, "", false
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
	defer d.mu.Unlock()
	if e := d.m[key]; e != nil {
		d.remove(e)
	}
}

// FlushAll expires every key (nginx marks them expired; get_stale still sees
// them, this implementation drops them).
func (d *SharedDict) FlushAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m = map[string]*dictEntry{}
	d.lru.next, d.lru.prev = &d.lru, &d.lru
	d.used = 0
}

// FlushExpired frees up to max expired keys (0: all) and returns how many.
func (d *SharedDict) FlushExpired(max int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	n := 0
	for e := d.lru.prev; e != &d.lru; {
		if max > 0 && n >= max {
			break
		}
		prev := e.prev
		if e.expired(now) {
			d.remove(e)
			n++
		}
		e = prev
	}
	return n
}

// FreeSpace is the capacity not held by entries, in bytes.
func (d *SharedDict) FreeSpace() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Capacity - d.used
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

// NewShared builds ngx.shared for a state: one userdata per declared dict, sharing
// one metatable per state.
func NewShared(L *lua.LState, dicts map[string]*SharedDict) *lua.LTable {
	mt := L.NewTypeMetatable(sharedDictTypeName)
	L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), sharedDictMethods))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("ngx.shared." + checkDict(L).Name))
		return 1
	}))
	t := L.NewTable()
	names := make([]string, 0, len(dicts))
	for name := range dicts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ud := bind.NewUserData(L, dicts[name], mt)
		t.RawSetString(name, ud)
	}
	return t
}

func checkDict(L *lua.LState) *SharedDict {
	if d, ok := bind.TestUserData[*SharedDict](L, 1); ok {
		return d
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
		msg, forcible := d.store(mode, key, val, ttl, flags)
		if msg != "" {
			L.Push(lua.LFalse)
			L.Push(lua.LString(msg))
			L.Push(lua.LBool(forcible))
			return 3
		}
		L.Push(lua.LTrue)
		L.Push(lua.LNil)
		L.Push(lua.LBool(forcible))
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
	"safe_set": dictStore("safe_set"),
	"add":      dictStore("add"),
	"safe_add": dictStore("safe_add"),
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
		n, msg, forcible := d.Incr(key, by, init, hasInit, initTTL)
		if msg != "" {
			return bind.Fail(L, msg)
		}
		L.Push(lua.LNumber(n))
		L.Push(lua.LNil)
		L.Push(lua.LBool(forcible))
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
			return bind.Fail(L, "not found")
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
			return bind.Fail(L, "not found")
		}
		L.Push(lua.LTrue)
		return 1
	},
	"capacity":   func(L *lua.LState) int { L.Push(lua.LNumber(checkDict(L).Capacity)); return 1 },
	"free_space": func(L *lua.LState) int { L.Push(lua.LNumber(max(checkDict(L).FreeSpace(), 0))); return 1 },
}
