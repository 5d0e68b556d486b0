package pdk

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// A request's ngx.ctx is made when Lua first reads it, as OpenResty makes
// it (resty.core's ngx.ctx is an __index of ngx that creates the table on
// first use). Until then the values Kong's runloop keeps in it for the
// request (KONG_PHASE, route, service, workspace, router_matches,
// plugin_id, authenticated_consumer, ...) wait in the request's ReqCtx,
// written and read by Go with CtxSet and CtxGet. A plugin that never
// touches ngx.ctx or kong.ctx (most auth plugins: they call
// kong.client.authenticate) then costs no table per request; the first
// read of ngx.ctx from Lua, or a Go caller asking for the table
// (CurrentCtx), makes the table with every waiting value in it, in the
// order they were set, and from then on the table is the only copy.
//
// While a request's ctx is lazy, ngx's raw "ctx" field is nil, so that
// reading ngx.ctx goes to ngx's __index, which calls CurrentCtx
// (pdk/request installs it and says so with EnableLazyCtx). A plugin
// assigning ngx.ctx a table replaces the whole ctx, waiting values
// included, as it replaces the table's contents in OpenResty.

// reqCtxMax is how many values wait before the table is made anyway.
const reqCtxMax = 14

// ReqCtx is one request's ngx.ctx: the table once made, else the values
// waiting for it. The zero value is a request's ctx before anything was set.
type ReqCtx struct {
	t *lua.LTable
	n int
	e [reqCtxMax]ctxEntry
}

type ctxEntry struct {
	k luavm.Key
	v lua.LValue // emptyTable: a table made when first read
}

// emptyTable marks a waiting value that is an empty table, made when it is
// first read (ngx.ctx.router_matches of a route without captures).
var emptyTable = &lua.LTable{}

// Reset readies rc for a new request.
func (rc *ReqCtx) Reset() {
	rc.t = nil
	clear(rc.e[:rc.n])
	rc.n = 0
}

// Table is the request's ngx.ctx table, nil while it is not made.
func (rc *ReqCtx) Table() *lua.LTable { return rc.t }

func (rc *ReqCtx) find(k string) int {
	for i := 0; i < rc.n; i++ {
		if rc.e[i].k.String() == k {
			return i
		}
	}
	return -1
}

// set notes k = v; false when rc is full.
func (rc *ReqCtx) set(k luavm.Key, v lua.LValue) bool {
	if i := rc.find(k.String()); i >= 0 {
		rc.e[i].v = v
		return true
	}
	if rc.n == len(rc.e) {
		return false
	}
	rc.e[rc.n] = ctxEntry{k: k, v: v}
	rc.n++
	return true
}

func (rc *ReqCtx) get(L *lua.LState, k string) lua.LValue {
	i := rc.find(k)
	if i < 0 {
		return lua.LNil
	}
	v := rc.e[i].v
	if v == emptyTable {
		v = L.CreateTable(0, 0)
		rc.e[i].v = v
	}
	return v
}

// make builds the table from the waiting values.
func (rc *ReqCtx) make(L *lua.LState) *lua.LTable {
	hcap := ctxHashCap
	if rc.n > hcap {
		hcap = rc.n
	}
	t := luavm.NewSizedTable(L, 0, hcap)
	for i := 0; i < rc.n; i++ {
		e := &rc.e[i]
		v := e.v
		if v == emptyTable {
			v = L.CreateTable(0, 0)
		}
		luavm.SetKey(t, e.k, v)
	}
	clear(rc.e[:rc.n])
	rc.n = 0
	rc.t = t
	return t
}

// ctxHashCap sizes the hash part of a request's ngx.ctx table: the keys
// Kong's runloop puts in it (KONG_PHASE, route, service, workspace,
// router_matches, plugin_id) and a couple of plugins'.
const ctxHashCap = 8

// EnableLazyCtx tells the instance that reading ngx.ctx from Lua reaches
// CurrentCtx when ngx has no raw "ctx" field (pdk/request's ngx __index):
// only then does AttachCtx leave a request's ctx unmade.
func (in *Instance) EnableLazyCtx() { in.lazyCtx = true }

// AttachCtx makes rc the ngx.ctx of the request the worker runs now (the
// host calls it each time a request takes the worker, DetachCtx when it
// gives it back).
func (in *Instance) AttachCtx(rc *ReqCtx) {
	if rc.t == nil && (!in.lazyCtx || in.ngx == nil) {
		rc.make(in.L)
	}
	in.rc = rc
	in.Ctx = rc.t
	if in.ngx != nil {
		if rc.t != nil {
			in.ngx.RawSetString("ctx", rc.t)
			in.ngxCtxNil = false
		} else if !in.ngxCtxNil {
			in.ngx.RawSetString("ctx", lua.LNil)
			in.ngxCtxNil = true
		}
	}
}

// DetachCtx ends the attachment AttachCtx made, keeping in the ReqCtx the
// table Lua may have assigned to ngx.ctx.
func (in *Instance) DetachCtx() {
	rc := in.rc
	if rc == nil {
		return
	}
	if rc.t == nil {
		// Lua assigning ngx.ctx while it is lazy goes through ngx's
		// __newindex (AssignCtx); a rawset(ngx, "ctx", t) does not, and is
		// found here, once per attachment instead of at every CtxSet
		if t, ok := in.ngx.RawGetString("ctx").(*lua.LTable); ok {
			in.AssignCtx(t)
		}
	}
	if rc.t != nil {
		in.CurrentCtx()
	}
	in.rc = nil
}

// AssignCtx is Lua's ngx.ctx = v while ngx has no raw ctx field (ngx's
// __newindex calls it: the attached request's ctx not made yet). A table
// is the ctx from then on, the values waiting for it dropped, as assigning
// ngx.ctx replaces the whole table in OpenResty; another value is stored
// as OpenResty stores it, and Go's CtxSet and CtxGet go on using the
// waiting values.
func (in *Instance) AssignCtx(v lua.LValue) {
	if t, ok := v.(*lua.LTable); ok {
		if rc := in.rc; rc != nil {
			clear(rc.e[:rc.n])
			rc.n = 0
			rc.t = t
		}
		in.Ctx = t
	}
	if in.ngx != nil {
		in.ngx.RawSetString("ctx", v)
		in.ngxCtxNil = v == lua.LNil
	}
}

// lazy is the attached request's ReqCtx while its table is not made, else
// nil (also when Lua assigned ngx.ctx a table meanwhile: AssignCtx made that
// table the ctx). It reads no Lua table: Kong's runloop calls CtxSet and
// CtxGet several times a request.
func (in *Instance) lazy() *ReqCtx {
	rc := in.rc
	if rc == nil || rc.t != nil {
		return nil
	}
	return rc
}

// CtxSet is ngx.ctx[k] = v for Go (no table made for it).
func (in *Instance) CtxSet(k luavm.Key, v lua.LValue) {
	if rc := in.lazy(); rc != nil && rc.set(k, v) {
		return
	}
	luavm.SetKey(in.CurrentCtx(), k, v)
}

// CtxSetEmptyTable is CtxSet(k, {}), the table made when first read.
func (in *Instance) CtxSetEmptyTable(k luavm.Key) {
	if rc := in.lazy(); rc != nil && rc.set(k, emptyTable) {
		return
	}
	luavm.SetKey(in.CurrentCtx(), k, in.L.CreateTable(0, 0))
}

// CtxGet is ngx.ctx[k] for Go (no table made for it).
func (in *Instance) CtxGet(k luavm.Key) lua.LValue { return in.CtxGetString(k.String()) }

// CtxGetString is ngx.ctx[k] for Go (no table made for it).
func (in *Instance) CtxGetString(k string) lua.LValue {
	if rc := in.lazy(); rc != nil {
		return rc.get(in.L, k)
	}
	if t := in.CurrentCtx(); t != nil {
		return t.RawGetString(k)
	}
	return lua.LNil
}

// CtxMade reports whether the attached request's ngx.ctx is a table yet
// (true outside a request).
func (in *Instance) CtxMade() bool { return in.lazy() == nil }
