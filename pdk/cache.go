package pdk

// kong.cache and kong.core_cache (Kong's kong/cache/init.lua over
// lua-resty-mlcache, KONG-REFERENCE §6): typed userdata per worker, an L1 of
// Lua values (cache_l1.go) in front of the node's shared L2
// (kongdb/cache). A miss runs the callback in the calling worker's state,
// once per key across all workers: the others block in Go until L2 holds
// the value (the L2 single flight), so no worker ever waits on a Lua state
// but its own.

import (
	"context"
	"errors"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/cache"
)

const cacheTypeName = "luahost.cache"

// Hit levels as Lua numbers, boxed once.
var (
	hitL1    lua.LValue = lua.LNumber(1)
	hitL2    lua.LValue = lua.LNumber(cache.HitL2)
	hitL3    lua.LValue = lua.LNumber(cache.HitLoader)
	hitStale lua.LValue = lua.LNumber(cache.HitStale)
	hitMiss  lua.LValue = lua.LNumber(cache.HitMiss)
)

// CacheObserver is told the hit level of every kong.cache:get and
// get_bulk operation (Kong's hit_level: 1 L1, 2 L2, 3 the callback ran, 4
// stale, -1 not cached and no callback) on cache "kong.cache" or
// "kong.core_cache". It runs on the worker's goroutine, on the hit path:
// it must be quick and allocate nothing (metrics.Recorder.CacheGet).
type CacheObserver func(cache string, level int)

// SetCacheObserver sets the function told of every get (nil: none).
// Without one a get costs one atomic load more.
func (r *Root) SetCacheObserver(fn CacheObserver) {
	if fn == nil {
		r.cacheGets.Store(nil)
		return
	}
	r.cacheGets.Store(&fn)
}

// observeGet reports one get of b at hit level.
func (b *cacheBinding) observeGet(level lua.LValue) {
	if fn := b.in.Root.cacheGets.Load(); fn != nil {
		n, _ := level.(lua.LNumber)
		(*fn)(b.name, int(n))
	}
}

// cacheWorker is one worker's pair of caches.
type cacheWorker struct {
	cache, core *cacheBinding
}

// cacheBinding is one cache object (kong.cache or kong.core_cache) of one
// worker.
type cacheBinding struct {
	in    *Instance
	field string // "cache" or "core_cache"
	name  string // "kong.cache" or "kong.core_cache" (CacheObserver)
	l2    *cache.Cache
	l1    *l1
	inbox l1Inbox
	// drops counts L1 invalidations applied; a value loaded while it
	// changed is not kept in L1 (it may be the value just invalidated).
	drops   uint64
	clock   func() time.Time
	ld      luaLoader // reused when no load is running in this binding
	busy    bool      // ld and buf are in use by a running load
	loading []string  // keys whose callback is running in this worker
	buf     []byte
	dec     luaDecoder
	enc     *cache.Encoder
	removes []func()
}

// ensureCaches builds Root.Cache and Root.CoreCache from the configuration
// when the host did not: mem_cache_size, db_cache_ttl, db_cache_neg_ttl,
// db_resurrect_ttl (cache.ConfigFrom); with Root.ClusterEvents set, their
// invalidations are broadcast on "invalidations" /
// "invalidations_kong_core_db_cache" and other nodes' are applied.
func (r *Root) ensureCaches() {
	r.cacheOnce.Do(func() {
		c := r.Conf
		if c == nil {
			c = conf.New()
		}
		cfg := cache.ConfigFrom(c)
		if r.Now != nil {
			cfg.Now = r.Now
		}
		ce := r.ClusterEvents
		if ce != nil {
			cfg.Cluster = ce
		}
		subscribe := func(c *cache.Cache) {
			if ce == nil {
				return
			}
			if err := c.SubscribeCluster(ce); err != nil {
				r.Log(LogErr, "[DB cache] failed to subscribe to invalidations cluster events channel: "+err.Error())
			}
		}
		if r.Cache == nil {
			r.Cache = cache.New(cfg)
			subscribe(r.Cache)
		}
		if r.CoreCache == nil {
			core := cfg
			core.Name = "kong_core_db_cache"
			core.Channel = "invalidations_kong_core_db_cache"
			r.CoreCache = cache.New(core)
			subscribe(r.CoreCache)
		}
	})
}

// l1Size is the L1 size in items: kong.conf's luahost_l1_cache_size, else
// Kong's 500 000.
func (r *Root) l1Size() int {
	if r.Conf == nil {
		return DefaultL1Size
	}
	return r.Conf.Int("luahost_l1_cache_size", DefaultL1Size)
}

// OpenCache installs kong.cache and kong.core_cache into a worker (after
// Root.Open, which creates the global kong), each with its own L1 in front
// of Root.Cache / Root.CoreCache (built from Conf when nil), and the
// modules "kong.resty.mlcache" / "resty.mlcache" (new_bulk, each_bulk_res).
// Call CloseCache when the worker goes away.
func OpenCache(in *Instance) {
	r := in.Root
	r.ensureCaches()
	L := in.L
	mt := L.NewTypeMetatable(cacheTypeName)
	methods := L.SetFuncs(L.NewTable(), cacheMethods)
	mt.RawSetString("__index", methods)
	mt.RawSetString("__metatable", lua.LFalse)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("kong." + checkCache(L).field))
		return 1
	}))
	cw := &cacheWorker{
		cache: newCacheBinding(in, "cache", r.Cache),
		core:  newCacheBinding(in, "core_cache", r.CoreCache),
	}
	in.caches = cw
	kong, ok := L.GetGlobal("kong").(*lua.LTable)
	if !ok {
		kong = L.NewTable()
		L.SetGlobal("kong", kong)
	}
	for _, b := range []*cacheBinding{cw.cache, cw.core} {
		ud := bind.NewUserData(L, b, mt)
		kong.RawSetString(b.field, ud)
	}
	openMlcache := func(L *lua.LState) int { return openMlcacheModule(L, in) }
	L.PreloadModule("kong.resty.mlcache", openMlcache)
	L.PreloadModule("resty.mlcache", openMlcache)
}

func newCacheBinding(in *Instance, field string, l2 *cache.Cache) *cacheBinding {
	b := &cacheBinding{in: in, field: field, name: "kong." + field, l2: l2, l1: newL1(in.Root.l1Size()), clock: l2.Config().Now,
		enc: cache.NewEncoder()}
	b.ld.b = b
	b.removes = append(b.removes, l2.OnInvalidate(b.inbox.drop), l2.OnPurge(b.inbox.purge))
	return b
}

// CloseCache detaches a worker's L1s from the shared caches (their
// invalidation hooks). The host calls it when it closes the worker.
func CloseCache(in *Instance) {
	cw := in.caches
	if cw == nil {
		return
	}
	for _, b := range []*cacheBinding{cw.cache, cw.core} {
		for _, rm := range b.removes {
			rm()
		}
		b.removes = nil
	}
	in.caches = nil
}

// L1Len reports how many entries a worker's kong.cache (core=false) or
// kong.core_cache L1 holds, after applying pending invalidations.
func L1Len(in *Instance, core bool) int {
	if in.caches == nil {
		return 0
	}
	b := in.caches.cache
	if core {
		b = in.caches.core
	}
	b.sync()
	return b.l1.len()
}

func (b *cacheBinding) nowNano() int64 { return b.clock().UnixNano() }

// sync applies the invalidations queued for this worker's L1.
func (b *cacheBinding) sync() {
	if b.inbox.pending.Load() && b.inbox.apply(b.l1) {
		b.drops++
	}
}

func (b *cacheBinding) expAt(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return b.nowNano() + int64(ttl)
}

func checkCache(L *lua.LState) *cacheBinding {
	if b, ok := bind.TestUserData[*cacheBinding](L, 1); ok {
		return b
	}
	L.ArgError(1, "cache object expected (use kong.cache:method(), not kong.cache.method())")
	return nil
}

func checkCacheKey(L *lua.LState, n int) string {
	k, ok := L.Get(n).(lua.LString)
	if !ok {
		bind.RaiseAtCaller(L, "key must be a string")
	}
	return string(k)
}

var cacheMethods = map[string]lua.LGFunction{
	"get":              cacheGet,
	"get_bulk":         cacheGetBulk,
	"renew":            cacheRenew,
	"probe":            cacheProbe,
	"safe_set":         cacheSafeSet,
	"invalidate_local": cacheInvalidateLocal,
	"invalidate":       cacheInvalidate,
	"purge":            cachePurge,
}

// cacheGet is cache:get(key, opts?, cb?, ...) -> value, err, hit_level.
func cacheGet(L *lua.LState) int {
	b := checkCache(L)
	key := checkCacheKey(L, 2)
	cb := L.Get(4)
	if cb != lua.LNil {
		if _, ok := cb.(*lua.LFunction); !ok {
			bind.RaiseAtCaller(L, "callback must be nil or a function")
		}
	}
	b.sync()
	if e := b.l1.get(key, b.nowNano); e != nil {
		if e.neg {
			L.Push(lua.LNil)
		} else {
			L.Push(e.val)
		}
		L.Push(lua.LNil)
		L.Push(hitL1)
		b.observeGet(hitL1)
		return 3
	}
	var o cache.Opts
	ser, msg := parseCacheOpts(L.Get(3), &o)
	if msg != "" {
		bind.RaiseAtCaller(L, msg)
	}
	var op *cache.Opts
	if o.Has != 0 {
		op = &o
	}
	v, err, hit := b.fetch(L, key, op, ser, cb, 5, L.GetTop())
	if err != "" {
		b.observeGet(hitL3)
		return bind.Fail(L, "failed to get from node cache: "+err)
	}
	b.observeGet(hit)
	L.Push(v)
	L.Push(lua.LNil)
	L.Push(hit)
	return 3
}

// parseCacheOpts reads get's opts table into o (mlcache's check_opts) and
// returns opts.l1_serializer (nil when none), or the message of the error
// mlcache raises for a bad option.
func parseCacheOpts(v lua.LValue, o *cache.Opts) (ser lua.LValue, msg string) {
	if v == lua.LNil {
		return nil, ""
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, "opts must be a table"
	}
	for _, f := range cacheTTLOpts {
		x := t.RawGetString(f.name)
		if x == lua.LNil {
			continue
		}
		n, ok := x.(lua.LNumber)
		if !ok {
			return nil, "opts." + f.name + " must be a number"
		}
		if n < 0 {
			return nil, "opts." + f.name + " must be >= 0"
		}
		d := cache.Seconds(float64(n))
		switch f.flag {
		case cache.HasTTL:
			o.TTL = d
		case cache.HasNegTTL:
			o.NegTTL = d
		case cache.HasResurrectTTL:
			o.ResurrectTTL = d
		}
		o.Has |= f.flag
	}
	if s := t.RawGetString("l1_serializer"); s != lua.LNil {
		if _, ok := s.(*lua.LFunction); !ok {
			return nil, "opts.l1_serializer must be a function"
		}
		ser = s
	}
	if x := t.RawGetString("shm_set_tries"); x != lua.LNil {
		n, ok := x.(lua.LNumber)
		if !ok {
			return nil, "opts.shm_set_tries must be a number"
		}
		if n < 1 {
			return nil, "opts.shm_set_tries must be >= 1"
		}
	}
	return ser, ""
}

var cacheTTLOpts = []struct {
	name string
	flag cache.OptFlag
}{{"ttl", cache.HasTTL}, {"neg_ttl", cache.HasNegTTL}, {"resurrect_ttl", cache.HasResurrectTTL}}

// fetch is get past L1: L2, then the callback cb (nil: none) with the
// arguments at stack indexes argBase..argEnd. It returns the value and its hit
// level, or an error message (mlcache's, without Kong's prefix).
func (b *cacheBinding) fetch(L *lua.LState, key string, o *cache.Opts, ser, cb lua.LValue, argBase, argEnd int) (lua.LValue, string, lua.LValue) {
	ld, buf := &b.ld, b.buf
	if b.busy {
		// A callback of this cache is running and called get again: give
		// the nested load its own loader and buffer.
		ld, buf = &luaLoader{b: b}, nil
	} else {
		b.busy = true
		defer func() { b.busy = false }()
	}
	if cb == lua.LNil || cb == nil {
		r, err := b.l2.Get(key, buf[:0])
		if r.Buf != nil && ld == &b.ld {
			b.buf = r.Buf
		}
		if err != nil {
			return lua.LNil, "could not read from lua_shared_dict: " + err.Error(), nil
		}
		if !r.Found() {
			return lua.LNil, "", hitMiss
		}
		return b.promote(L, key, r, ser, b.drops)
	}
	for _, k := range b.loading {
		if k == key {
			// The callback of key asked for key again: it would wait on its
			// own load until the lock timeout (5 s in Kong); fail at once.
			return lua.LNil, cache.ErrLockTimeout.Error(), nil
		}
	}
	ld.fn = cb
	ld.args = ld.args[:0]
	for i := argBase; i <= argEnd; i++ {
		ld.args = append(ld.args, L.Get(i))
	}
	ld.ran, ld.encErr, ld.val, ld.bypass = false, nil, lua.LNil, false
	drops := b.drops
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	b.loading = append(b.loading, key)
	r, err := b.l2.GetOrLoad(ctx, key, o, ld, buf[:0])
	b.loading = b.loading[:len(b.loading)-1]
	if r.Buf != nil && ld == &b.ld {
		b.buf = r.Buf
	}
	ld.fn = nil
	clear(ld.args)
	if err != nil {
		if ld.ran && ld.encErr != nil {
			var ut *unsupportedType
			if errors.As(ld.encErr, &ut) {
				bind.RaiseAtCaller(L, ut.Error())
			}
		}
		var te *cache.ThrownError
		if ld.ran && errors.As(err, &te) {
			b.in.Log(LogErr, "[DB cache] failed to get from node cache: "+err.Error())
		}
		return lua.LNil, err.Error(), nil
	}
	if ld.ran && r.Hit == cache.HitLoader {
		v := ld.val
		ld.val = lua.LNil
		if ld.bypass {
			return v, "", hitL3
		}
		return b.keep(L, key, v, r.TTL, ser, drops, hitL3)
	}
	if r.Hit == cache.HitLoader {
		// Another worker's load whose value was not cached (ttl < 0):
		// return it, keep nothing.
		v, derr := b.decode(L, r)
		if derr != nil {
			return lua.LNil, derr.Error(), nil
		}
		return v, "", hitL3
	}
	return b.promote(L, key, r, ser, drops)
}

// decode builds the Lua value of an L2 result.
func (b *cacheBinding) decode(L *lua.LState, r cache.Result) (lua.LValue, error) {
	if r.Nil {
		return lua.LNil, nil
	}
	v, err := b.dec.decode(L, r.Value)
	if err != nil {
		return lua.LNil, errors.New("could not deserialize value after lua_shared_dict retrieval: " + err.Error())
	}
	return v, nil
}

// promote returns an L2 hit and keeps it in L1 for its remaining ttl.
func (b *cacheBinding) promote(L *lua.LState, key string, r cache.Result, ser lua.LValue, drops uint64) (lua.LValue, string, lua.LValue) {
	v, err := b.decode(L, r)
	if err != nil {
		return lua.LNil, err.Error(), nil
	}
	hit := hitL2
	if r.Hit == cache.HitStale {
		hit = hitStale
	}
	return b.keep(L, key, v, r.TTL, ser, drops, hit)
}

// keep stores v in L1 for ttl (through the l1_serializer if any) unless an
// invalidation was applied since drops was read, and returns what get
// returns.
func (b *cacheBinding) keep(L *lua.LState, key string, v lua.LValue, ttl time.Duration, ser lua.LValue, drops uint64, hit lua.LValue) (lua.LValue, string, lua.LValue) {
	neg := v == lua.LNil
	if !neg && ser != nil {
		sv, msg := b.serializeL1(L, ser, v)
		if msg != "" {
			b.l2.Delete(key)
			return lua.LNil, msg, nil
		}
		v = sv
	}
	b.sync()
	if b.drops == drops {
		b.l1.set(key, v, neg, b.expAt(ttl))
	}
	return v, "", hit
}

// serializeL1 runs opts.l1_serializer(value).
func (b *cacheBinding) serializeL1(L *lua.LState, ser, v lua.LValue) (lua.LValue, string) {
	top := L.GetTop()
	L.Push(ser)
	L.Push(v)
	if err := luavm.PCall(L, 1, 2, true); err != nil {
		L.SetTop(top)
		return nil, "l1_serializer threw an error: " + luaErrText(err)
	}
	nv, e := L.Get(top+1), L.Get(top+2)
	L.SetTop(top)
	if lua.LVAsBool(e) {
		return nil, luavm.TostringValue(L, e).String()
	}
	if nv == lua.LNil {
		return nil, "l1_serializer returned a nil value"
	}
	return nv, ""
}

// luaErrText is the message of a Lua error, with its traceback when there
// is one (mlcache runs callbacks under xpcall(cb, traceback)).
func luaErrText(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := ae.Object.String()
		if ae.StackTrace != "" {
			msg += "\n" + ae.StackTrace
		}
		return msg
	}
	return err.Error()
}

// luaLoader is L3: it runs the Lua callback in the calling worker and
// encodes its result straight into L2's encoder.
type luaLoader struct {
	b      *cacheBinding
	fn     lua.LValue
	args   []lua.LValue
	ran    bool
	bypass bool       // the callback's ttl was < 0: not cached
	val    lua.LValue // the callback's value, kept as is in this worker's L1
	encErr error
}

// Load implements cache.Loader.
func (ld *luaLoader) Load(e *cache.Encoder) (cache.TTLOverride, error) {
	ld.ran = true
	L := ld.b.in.L
	top := L.GetTop()
	L.Push(ld.fn)
	for _, a := range ld.args {
		L.Push(a)
	}
	if err := luavm.PCall(L, len(ld.args), 3, true); err != nil {
		L.SetTop(top)
		return cache.TTLOverride{}, &cache.ThrownError{Msg: luaErrText(err)}
	}
	v, lerr, ttl := L.Get(top+1), L.Get(top+2), L.Get(top+3)
	L.SetTop(top)
	if lua.LVAsBool(lerr) {
		return cache.TTLOverride{}, errors.New(luavm.TostringValue(L, lerr).String())
	}
	if err := encodeLua(L, e, v); err != nil {
		ld.encErr = err
		return cache.TTLOverride{}, err
	}
	ld.val = v
	if n, ok := ttl.(lua.LNumber); ok {
		if n < 0 {
			ld.bypass = true
			return cache.TTLOverride{Set: true, TTL: -1}, nil
		}
		return cache.TTLOverride{Set: true, TTL: cache.Seconds(float64(n))}, nil
	}
	return cache.TTLOverride{}, nil
}

// cacheProbe is cache:probe(key) -> ttl, err, value (L2 only).
func cacheProbe(L *lua.LState) int {
	b := checkCache(L)
	key := checkCacheKey(L, 2)
	var buf []byte
	if !b.busy {
		buf = b.buf[:0]
	}
	r, err := b.l2.Probe(key, buf)
	if err != nil {
		return bind.Fail(L, "failed to probe from node cache: "+err.Error())
	}
	if !r.Found() {
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 3
	}
	v, derr := b.decode(L, r)
	if derr != nil {
		return bind.Fail(L, "failed to probe from node cache: "+derr.Error())
	}
	L.Push(lua.LNumber(r.TTL.Seconds()))
	L.Push(lua.LNil)
	L.Push(v)
	return 3
}

// cacheSafeSet is cache:safe_set(key, value) -> ok, err: straight into L2
// with the instance ttl, no L1, no broadcast (Kong's cache warmup).
func cacheSafeSet(L *lua.LState) int {
	b := checkCache(L)
	key := luavm.CheckString(L, 2)
	e := b.enc
	e.Reset()
	if err := encodeLua(L, e, L.Get(3)); err != nil {
		return bind.Fail(L, err.Error())
	}
	if err := b.l2.Set(key, e, nil); err != nil {
		return bind.Fail(L, err.Error())
	}
	L.Push(lua.LTrue)
	return 1
}

// cacheInvalidateLocal is cache:invalidate_local(key): L2 and every
// worker's L1 of this node.
func cacheInvalidateLocal(L *lua.LState) int {
	b := checkCache(L)
	key := checkCacheKey(L, 2)
	b.l2.Delete(key)
	b.sync()
	return 0
}

// cacheInvalidate is cache:invalidate(key): invalidate_local plus a cluster
// event so other nodes drop the key; a broadcast failure is only logged.
func cacheInvalidate(L *lua.LState) int {
	b := checkCache(L)
	key := checkCacheKey(L, 2)
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := b.l2.Invalidate(ctx, key); err != nil {
		b.in.Log(LogErr, "[DB cache] failed to broadcast cached entity invalidation: "+err.Error())
	}
	b.sync()
	return 0
}

// cachePurge is cache:purge(): empties L2 and every worker's L1 (node-local).
func cachePurge(L *lua.LState) int {
	b := checkCache(L)
	if b.in.Phase != "timer" {
		b.in.Root.Log(LogNotice, "[DB cache] purging (local) cache")
	}
	b.l2.Purge()
	b.sync()
	return 0
}
