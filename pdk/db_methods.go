package pdk

// The DAO methods (KONG-REFERENCE §2.3) as Lua functions: each takes self
// as argument 1 and its DAO binding as upvalue 1 (per-field methods: the
// field name as upvalue 2), converts its arguments into the value model,
// calls the Go DAO and returns what Kong returns.

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
)

// daoMethods are the methods every DAO has (Kong's base DAO methods).
var daoMethods = map[string]lua.LGFunction{
	"select": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Select(b.st.ctx(), b.arg(L, 2), b.arg(L, 3))
		return b.pushRow(L, row, err)
	},
	"page": func(L *lua.LState) int {
		b := bindingOf(L)
		rows, next, err := b.dao.Page(b.st.ctx(), b.arg(L, 2), b.arg(L, 3), b.arg(L, 4))
		return b.pushPage(L, rows, next, err)
	},
	"each": func(L *lua.LState) int {
		b := bindingOf(L)
		size, opts := b.arg(L, 2), b.arg(L, 3)
		return b.each(L, func(off any) ([]kongdb.Row, string, error) {
			return b.dao.Page(b.st.ctx(), size, off, opts)
		}, false)
	},
	"each_for_export": func(L *lua.LState) int {
		b := bindingOf(L)
		size, opts := b.arg(L, 2), b.arg(L, 3)
		if b.s.TTL {
			m, _ := opts.(map[string]any)
			cp := make(map[string]any, len(m)+1)
			for k, v := range m {
				cp[k] = v
			}
			cp["export"] = true
			opts = cp
		}
		return b.each(L, func(off any) ([]kongdb.Row, string, error) {
			return b.dao.Page(b.st.ctx(), size, off, opts)
		}, false)
	},
	"insert": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Insert(b.st.ctx(), b.entityArg(L, 2), b.arg(L, 3))
		b.st.written(L, err)
		return b.pushRow(L, row, err)
	},
	"update": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Update(b.st.ctx(), b.arg(L, 2), b.entityArg(L, 3), b.arg(L, 4))
		b.st.written(L, err)
		return b.pushRow(L, row, err)
	},
	"upsert": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Upsert(b.st.ctx(), b.arg(L, 2), b.entityArg(L, 3), b.arg(L, 4))
		b.st.written(L, err)
		return b.pushRow(L, row, err)
	},
	"delete": func(L *lua.LState) int {
		b := bindingOf(L)
		ok, err := b.dao.Delete(b.st.ctx(), b.arg(L, 2), b.arg(L, 3))
		b.st.written(L, err)
		return b.pushDeleted(L, ok, err)
	},
	"select_by_cache_key": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.SelectByCacheKey(b.st.ctx(), b.arg(L, 2), b.arg(L, 3))
		return b.pushRow(L, row, err)
	},
	"cache_key": func(L *lua.LState) int {
		b := bindingOf(L)
		s, isStr := L.Get(2).(lua.LString)
		var key any
		if !isStr {
			key = b.arg(L, 2)
		}
		top := L.GetTop()
		var args []any
		if top > 2 {
			args = make([]any, 0, top-2)
			for i := 3; i <= top && i <= 7; i++ {
				args = append(args, b.arg(L, i))
			}
		}
		if isStr {
			// the request path (a plugin's key for kong.cache): built in
			// the state's buffer, the Lua string interned
			buf, err := b.dao.AppendStringCacheKey(b.st.ctx(), b.st.keyBuf[:0], string(s), args...)
			b.st.keyBuf = buf
			if err != nil {
				return pushDBError(L, b.dao.Errors, err)
			}
			L.Push(b.st.internKey(buf))
			return 1
		}
		k, err := b.dao.CacheKey(b.st.ctx(), key, args...)
		if err != nil {
			return pushDBError(L, b.dao.Errors, err)
		}
		L.Push(lua.LString(k))
		return 1
	},
	"truncate": func(L *lua.LState) int {
		b := bindingOf(L)
		err := b.dao.Truncate(b.st.ctx())
		b.st.written(L, err)
		if err != nil {
			return pushDBError(L, b.dao.Errors, err)
		}
		L.Push(lua.LTrue)
		return 1
	},
	"row_to_entity": func(L *lua.LState) int {
		b := bindingOf(L)
		row, ok := b.arg(L, 2).(map[string]any)
		if !ok {
			L.RaiseError("row must be a table")
		}
		e, err := b.dao.RowToEntity(b.st.ctx(), row, b.arg(L, 3))
		return b.pushRow(L, e, err)
	},
	"rows_to_entities": func(L *lua.LState) int {
		b := bindingOf(L)
		rt := L.CheckTable(2)
		opts := b.arg(L, 3)
		n := rt.Len()
		out := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			v, err := bind.ToValue(L, rt.RawGetInt(i), nil)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			row, _ := v.(map[string]any)
			e, err := b.dao.RowToEntity(b.st.ctx(), row, opts)
			if err != nil {
				return pushDBError(L, b.dao.Errors, err)
			}
			out.RawSetInt(i, b.rowToLua(e))
		}
		out.Metatable = bind.ArrayMT(L)
		L.Push(out)
		return 1
	},
	"post_crud_event": func(L *lua.LState) int {
		b := bindingOf(L)
		op := luavm.CheckString(L, 2)
		entity, _ := b.arg(L, 3).(map[string]any)
		old, _ := b.arg(L, 4).(map[string]any)
		o := &kongdb.Options{}
		if t, ok := L.Get(5).(*lua.LTable); ok {
			o.NoBroadcastCrud = lua.LVAsBool(t.RawGetString("no_broadcast_crud_event"))
		}
		o.Workspace = kongdb.WorkspaceFrom(b.st.ctx())
		b.dao.DefaultPostCrudEvent(b.st.ctx(), op, entity, old, o)
		return 0
	},
}

// daoSelectBy is select_by_<field>(value, options).
func daoSelectBy(L *lua.LState) int {
	b := bindingOf(L)
	row, err := b.dao.SelectBy(b.st.ctx(), fieldOf(L), b.arg(L, 2), b.arg(L, 3))
	return b.pushRow(L, row, err)
}

// daoUpdateBy is update_by_<field>(value, partial, options).
func daoUpdateBy(L *lua.LState) int {
	b := bindingOf(L)
	row, err := b.dao.UpdateBy(b.st.ctx(), fieldOf(L), b.arg(L, 2), b.entityArg(L, 3), b.arg(L, 4))
	b.st.written(L, err)
	return b.pushRow(L, row, err)
}

// daoUpsertBy is upsert_by_<field>(value, entity, options).
func daoUpsertBy(L *lua.LState) int {
	b := bindingOf(L)
	row, err := b.dao.UpsertBy(b.st.ctx(), fieldOf(L), b.arg(L, 2), b.entityArg(L, 3), b.arg(L, 4))
	b.st.written(L, err)
	return b.pushRow(L, row, err)
}

// daoDeleteBy is delete_by_<field>(value, options).
func daoDeleteBy(L *lua.LState) int {
	b := bindingOf(L)
	ok, err := b.dao.DeleteBy(b.st.ctx(), fieldOf(L), b.arg(L, 2), b.arg(L, 3))
	b.st.written(L, err)
	return b.pushDeleted(L, ok, err)
}

// daoPageFor is page_for_<fk>(foreign_key, size, offset, options).
func daoPageFor(L *lua.LState) int {
	b := bindingOf(L)
	rows, next, err := b.dao.PageFor(b.st.ctx(), fieldOf(L), b.arg(L, 2), b.arg(L, 3), b.arg(L, 4), b.arg(L, 5))
	return b.pushPage(L, rows, next, err)
}

// daoEachFor is each_for_<fk>(foreign_key, size, options): bad values give
// an iterator that yields false, err, err_t once.
func daoEachFor(L *lua.LState) int {
	b := bindingOf(L)
	fk, key, size, opts := fieldOf(L), b.arg(L, 2), b.arg(L, 3), b.arg(L, 4)
	return b.each(L, func(off any) ([]kongdb.Row, string, error) {
		return b.dao.PageFor(b.st.ctx(), fk, key, size, off, opts)
	}, true)
}

// each returns Kong's row iterator (kong/db/iteration.lua by_row): it yields
// entity, nil, page_number; a failure is yielded once as false, err, err_t,
// then nil. Invalid size or options make each return nil, err, err_t
// instead of an iterator (each_for_<fk>: failWithIterator, an iterator
// yielding the failure).
func (b *daoBinding) each(L *lua.LState, pager func(off any) ([]kongdb.Row, string, error), failWithIterator bool) int {
	rows, next, err := pager(nil)
	var failure error
	if err != nil {
		var ae *kongdb.ArgError
		if isArgError(err, &ae) {
			L.RaiseError("%s", ae.Msg)
		}
		if e, ok := kongdb.AsError(err); ok && !failWithIterator && (e.Code == kongdb.InvalidSize || e.Code == kongdb.InvalidOptions) {
			return pushDBError(L, b.dao.Errors, err)
		}
		failure = err
	}
	i, page, failed := 0, 1, false
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if failed {
			return 0
		}
		if failure != nil {
			return b.iterFail(L, &failed, failure)
		}
		if i >= len(rows) {
			if next == "" {
				failed = true
				return 0
			}
			var err error
			rows, next, err = pager(next)
			i = 0
			page++
			if err != nil {
				rows = nil
				return b.iterFail(L, &failed, err)
			}
			if len(rows) == 0 {
				failed = true
				return 0
			}
		}
		r := rows[i]
		rows[i] = nil
		i++
		L.Push(b.rowToLua(r))
		L.Push(lua.LNil)
		L.Push(lua.LNumber(page))
		return 3
	}))
	return 1
}

// iterFail ends an iteration with Kong's false, err, err_t.
func (b *daoBinding) iterFail(L *lua.LState, failed *bool, err error) int {
	*failed = true
	var ae *kongdb.ArgError
	if isArgError(err, &ae) {
		L.RaiseError("%s", ae.Msg)
	}
	e, ok := kongdb.AsError(err)
	if !ok {
		e = b.dao.Errors.DatabaseError(err.Error(), err)
	}
	L.Push(lua.LFalse)
	L.Push(lua.LString(e.Error()))
	L.Push(ErrToLua(L, e))
	return 3
}

func isArgError(err error, target **kongdb.ArgError) bool {
	ae, ok := err.(*kongdb.ArgError)
	if ok {
		*target = ae
	}
	return ok
}
