package pdk

// cache:get_bulk and cache:renew, and the bulk helpers of the
// "kong.resty.mlcache" module (new_bulk, each_bulk_res).

import (
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/pdk/bind"
)

// cacheGetBulk is cache:get_bulk(bulk, opts?) -> res, err with bulk = { n =
// N, key1, opts1, cb1, arg1, ... } and res = { n = 3N, data1, err1, hit1,
// ... }. Callbacks run one after the other in this worker (opts.concurrency
// is validated and otherwise irrelevant: a worker is one thread).
func cacheGetBulk(L *lua.LState) int {
	b := checkCache(L)
	bulk, ok := L.Get(2).(*lua.LTable)
	if !ok {
		bind.RaiseAtCaller(L, "bulk must be a table")
	}
	if o := L.Get(3); o != lua.LNil {
		ot, ok := o.(*lua.LTable)
		if !ok {
			bind.RaiseAtCaller(L, "opts must be a table")
		}
		if c := ot.RawGetString("concurrency"); c != lua.LNil {
			n, ok := c.(lua.LNumber)
			if !ok {
				bind.RaiseAtCaller(L, "opts.concurrency must be a number")
			}
			if n <= 0 {
				bind.RaiseAtCaller(L, "opts.concurrency must be > 0")
			}
		}
	}
	nv, ok := bulk.RawGetString("n").(lua.LNumber)
	if !ok {
		bind.RaiseAtCaller(L, "bulk must have n field")
	}
	n := int(bind.ClampSize(float64(nv)))
	// bulk.n is Lua's to set: preallocate no more than the bulk holds
	res := L.CreateTable(3*min(max(n, 0), bulk.Len()/4+1), 1)
	for op := 1; op <= n; op++ {
		i := 4*(op-1) + 1
		key, ok := bulk.RawGetInt(i).(lua.LString)
		if !ok {
			bind.RaiseAtCaller(L, "key at index "+strconv.Itoa(i)+" must be a string for operation "+strconv.Itoa(op)+
				" (got "+bulk.RawGetInt(i).Type().String()+")")
		}
		cb, ok := bulk.RawGetInt(i + 2).(*lua.LFunction)
		if !ok {
			bind.RaiseAtCaller(L, "callback at index "+strconv.Itoa(i+2)+" must be a function for operation "+strconv.Itoa(op)+
				" (got "+bulk.RawGetInt(i+2).Type().String()+")")
		}
		ri := 3*(op-1) + 1
		b.sync()
		if e := b.l1.get(string(key), b.nowNano); e != nil {
			if !e.neg {
				res.RawSetInt(ri, e.val)
			}
			res.RawSetInt(ri+2, hitL1)
			b.observeGet(hitL1)
			continue
		}
		var o cache.Opts
		ser, msg := parseCacheOpts(bulk.RawGetInt(i+1), &o)
		if msg != "" {
			bind.RaiseAtCaller(L, "options at index "+strconv.Itoa(i+1)+" for operation "+strconv.Itoa(op)+" are invalid: "+msg)
		}
		var op2 *cache.Opts
		if o.Has != 0 {
			op2 = &o
		}
		top := L.GetTop()
		L.Push(bulk.RawGetInt(i + 3))
		v, err, hit := b.fetch(L, string(key), op2, ser, cb, top+1, top+1)
		L.SetTop(top)
		if err != "" {
			b.observeGet(hitL3)
			res.RawSetInt(ri+1, lua.LString(err))
			continue
		}
		b.observeGet(hit)
		if v != lua.LNil {
			res.RawSetInt(ri, v)
		}
		res.RawSetInt(ri+2, hit)
	}
	res.RawSetString("n", lua.LNumber(3*n))
	L.Push(res)
	return 1
}

// cacheRenew is cache:renew(key, opts, cb, ...) -> value, err, ttl (Kong
// 3.4+): runs cb unconditionally, stores its result in L2 (a nil as a
// negative entry), drops the key from every worker's L1 and keeps the new
// value in this worker's.
func cacheRenew(L *lua.LState) int {
	b := checkCache(L)
	key := checkCacheKey(L, 2)
	cb, ok := L.Get(4).(*lua.LFunction)
	if !ok {
		bind.RaiseAtCaller(L, "callback must be a function")
	}
	var o cache.Opts
	ser, msg := parseCacheOpts(L.Get(3), &o)
	if msg != "" {
		bind.RaiseAtCaller(L, msg)
	}
	fail := func(msg string) int {
		return bind.Fail(L, "failed to renew key in node cache: "+msg)
	}
	ld := &luaLoader{b: b, fn: cb}
	for i := 5; i <= L.GetTop(); i++ {
		ld.args = append(ld.args, L.Get(i))
	}
	e := cache.NewEncoder()
	ov, err := ld.Load(e)
	if err != nil {
		if ut, ok := ld.encErr.(*unsupportedType); ok {
			bind.RaiseAtCaller(L, ut.Error())
		}
		return fail(err.Error())
	}
	v := ld.val
	cfg := b.l2.Config()
	ttl := cfg.TTL
	if o.Has&cache.HasTTL != 0 {
		ttl = o.TTL
	}
	if v == lua.LNil {
		ttl = cfg.NegTTL
		if o.Has&cache.HasNegTTL != 0 {
			ttl = o.NegTTL
		}
	}
	if ov.Set && !ld.bypass {
		ttl = ov.TTL
	}
	b.l2.Delete(key)
	if ld.bypass {
		L.Push(v)
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 3
	}
	if err := b.l2.Set(key, e, &cache.Opts{TTL: ttl, NegTTL: ttl, Has: cache.HasTTL | cache.HasNegTTL}); err != nil {
		return fail("could not write to lua_shared_dict '" + cfg.Name + "': " + err.Error())
	}
	v, msg, _ = b.keep(L, key, v, ttl, ser, b.dropsAfterSync(), hitL3)
	if msg != "" {
		return fail(msg)
	}
	L.Push(v)
	L.Push(lua.LNil)
	L.Push(lua.LNumber(ttl.Seconds()))
	return 3
}

func (b *cacheBinding) dropsAfterSync() uint64 {
	b.sync()
	return b.drops
}

// openMlcacheModule is require("kong.resty.mlcache") as far as plugins use
// it next to kong.cache: new_bulk(n) with bulk:add(key, opts, cb, arg) and
// each_bulk_res(res). Creating mlcache instances of one's own is not
// supported.
func openMlcacheModule(L *lua.LState, in *Instance) int {
	mod := L.NewTable()
	bulkMT := L.NewTable()
	methods := L.NewTable()
	methods.RawSetString("add", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		n, _ := t.RawGetString("n").(lua.LNumber)
		i := int(n)*4 + 1
		t.RawSetInt(i, L.Get(2))
		t.RawSetInt(i+1, L.Get(3))
		t.RawSetInt(i+2, L.Get(4))
		t.RawSetInt(i+3, L.Get(5))
		t.RawSetString("n", n+1)
		return 0
	}))
	bulkMT.RawSetString("__index", methods)
	mod.RawSetString("new_bulk", L.NewFunction(func(L *lua.LState) int {
		// mlcache preallocates n*4 array slots: charged to the budget
		t := in.budget.NewTable(L, bind.MulSize(bind.SizeArg(L, 1, 2), 4), 1)
		t.RawSetString("n", lua.LNumber(0))
		t.Metatable = bulkMT
		L.Push(t)
		return 1
	}))
	iter := L.NewFunction(func(L *lua.LState) int {
		res := L.CheckTable(1)
		i := L.CheckInt(2)
		idx := i*3 + 1
		n, _ := res.RawGetString("n").(lua.LNumber)
		if idx > int(n) {
			return 0
		}
		L.Push(lua.LNumber(i + 1))
		L.Push(res.RawGetInt(idx))
		L.Push(res.RawGetInt(idx + 1))
		L.Push(res.RawGetInt(idx + 2))
		return 4
	})
	mod.RawSetString("each_bulk_res", L.NewFunction(func(L *lua.LState) int {
		res := L.CheckTable(1)
		if res.RawGetString("n") == lua.LNil {
			bind.RaiseAtCaller(L, "res must have res.n field; is this a get_bulk() result?")
		}
		L.Push(iter)
		L.Push(res)
		L.Push(lua.LNumber(0))
		return 3
	}))
	L.Push(mod)
	return 1
}
