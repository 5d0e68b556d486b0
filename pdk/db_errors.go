package pdk

// Kong's error tables in Lua (kong/db/errors.lua): err_t values with their
// __tostring / __concat metatable, the kong.db.errors object and the
// "kong.db.errors" module. The messages themselves are built in Go
// (kongdb.Errors); this file only turns them into Lua.

import (
	"errors"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
)

const (
	errMTKey     = "luahost.err_t_mt"
	errModuleKey = "luahost.kong.db.errors"
	// maxKongCode is the last code of Kong 3.6–3.9 (3.10-dev adds 20, 21).
	maxKongCode   = kongdb.ReferencedByOthers
	errStrategyOf = "strategy"
)

// ErrMT returns the state's err_t metatable (Kong's _err_mt): __tostring
// gives "[<strategy>] <message>" (the name when message is null, no prefix
// without a strategy); __concat stringifies both sides.
func ErrMT(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if t, ok := reg.RawGetString(errMTKey).(*lua.LTable); ok {
		return t
	}
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(errTostring))
	mt.RawSetString("__concat", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(dbTostring(L, L.Get(1)) + dbTostring(L, L.Get(2))))
		return 1
	}))
	reg.RawSetString(errMTKey, mt)
	return mt
}

func errTostring(L *lua.LState) int {
	t := L.CheckTable(1)
	msg := t.RawGetString("message")
	if msg == lua.LNil || bind.IsNull(msg) {
		msg = t.RawGetString("name")
	}
	s := dbTostring(L, msg)
	if st := t.RawGetString(errStrategyOf); st != lua.LNil && st != lua.LFalse {
		s = "[" + dbTostring(L, st) + "] " + s
	}
	L.Push(lua.LString(s))
	return 1
}

// dbTostring is Lua's tostring (metamethods included).
func dbTostring(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return bind.FormatNumber(float64(x))
	}
	if L.GetMetaField(v, "__tostring") != lua.LNil {
		return luavm.TostringValue(L, v).String()
	}
	return v.String()
}

// ErrToLua builds Kong's err_t table for e: code, name, message (ngx.null
// when Kong's message is nil), strategy, and fields — or options for
// INVALID_OPTIONS.
func ErrToLua(L *lua.LState, e *kongdb.Error) *lua.LTable {
	t := L.CreateTable(0, 5)
	t.RawSetString("code", lua.LNumber(e.Code))
	t.RawSetString("name", lua.LString(e.Name))
	if e.HasMessage {
		t.RawSetString("message", lua.LString(e.Message))
	} else {
		t.RawSetString("message", bind.Null(L))
	}
	if e.Strategy != "" {
		t.RawSetString(errStrategyOf, lua.LString(e.Strategy))
	}
	if e.Code == kongdb.InvalidOptions {
		if e.Options != nil {
			t.RawSetString("options", bind.FromValue(L, e.Options, nil))
		}
	} else if e.Fields != nil {
		f := bind.FromValue(L, e.Fields, nil)
		if ft, ok := f.(*lua.LTable); ok && L.GetMetatable(ft) == bind.ArrayMT(L) {
			// Kong copies the fields into a plain table.
			ft.Metatable = lua.LNil
		}
		t.RawSetString("fields", f)
	}
	t.Metatable = ErrMT(L)
	return t
}

// pushDBError pushes Kong's failure triple for err: nil, tostring(err_t),
// err_t. An *kongdb.ArgError is raised as Kong raises it with error(); a Lua
// error from a validator run inside the call is re-raised as it was; any
// other error becomes a DATABASE_ERROR.
func pushDBError(L *lua.LState, errs kongdb.Errors, err error) int {
	var ae *kongdb.ArgError
	if errors.As(err, &ae) {
		L.RaiseError("%s", ae.Msg)
		return 0
	}
	var le *lua.ApiError
	if errors.As(err, &le) && le.Object != nil {
		L.Error(le.Object, 0)
		return 0
	}
	e, ok := kongdb.AsError(err)
	if !ok {
		e = errs.DatabaseError(err.Error(), err)
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(e.Error()))
	L.Push(ErrToLua(L, e))
	return 3
}

// errorsModule returns the state's "kong.db.errors" module table: codes,
// names, new(strategy) and the constructors, with the __index that makes
// instances answer errors.X with a code and errors:x() with a bare err_t.
func errorsModule(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if t, ok := reg.RawGetString(errModuleKey).(*lua.LTable); ok {
		return t
	}
	m := L.NewTable()
	codes := L.NewTable()
	names := L.NewTable()
	for c := kongdb.Code(1); c <= maxKongCode; c++ {
		codes.RawSetString(kongdb.CodeNames[c], lua.LNumber(c))
		names.RawSetInt(int(c), lua.LString(kongdb.Errors{}.Bare(c).Name))
	}
	m.RawSetString("codes", codes)
	m.RawSetString("names", names)
	m.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
		L.Push(newErrorsObject(L, L.Get(1)))
		return 1
	}))
	for name, fn := range errConstructors {
		m.RawSetString(name, L.NewFunction(fn))
	}
	m.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		self := L.CheckTable(1)
		k, ok := L.Get(2).(lua.LString)
		if !ok {
			return 0
		}
		if c := codes.RawGetString(string(k)); c != lua.LNil {
			L.Push(c)
			return 1
		}
		if v := m.RawGetString(string(k)); v != lua.LNil {
			L.Push(v)
			return 1
		}
		c, isCode := codes.RawGetString(strings.ToUpper(string(k))).(lua.LNumber)
		if !isCode {
			return 0
		}
		f := L.NewFunction(func(L *lua.LState) int {
			L.Push(ErrToLua(L, errsOf(self).Bare(kongdb.Code(c))))
			return 1
		})
		self.RawSet(k, f)
		L.Push(f)
		return 1
	}))
	reg.RawSetString(errModuleKey, m)
	return m
}

// newErrorsObject is Errors.new(strategy).
func newErrorsObject(L *lua.LState, strategy lua.LValue) *lua.LTable {
	t := L.NewTable()
	if strategy != lua.LNil {
		t.RawSetString(errStrategyOf, strategy)
	}
	t.Metatable = errorsModule(L)
	return t
}

func errsOf(self *lua.LTable) kongdb.Errors {
	s, _ := self.RawGetString(errStrategyOf).(lua.LString)
	return kongdb.Errors{Strategy: string(s)}
}

// errArgTable returns argument n as a value-model table, raising Kong's
// "<what> must be a table" otherwise.
func errArgTable(L *lua.LState, n int, what string) map[string]any {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		L.RaiseError("%s must be a table", what)
	}
	v, err := bind.ToValue(L, t, nil)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	switch x := v.(type) {
	case map[string]any:
		return x
	case []any:
		m := make(map[string]any, len(x))
		for i, e := range x {
			m[bind.FormatNumber(float64(i+1))] = e
		}
		return m
	}
	return map[string]any{}
}

func errArgString(L *lua.LState, n int, what string) string {
	s, ok := L.Get(n).(lua.LString)
	if !ok {
		L.RaiseError("%s must be a string", what)
	}
	return string(s)
}

func pushErrT(L *lua.LState, e *kongdb.Error) int {
	L.Push(ErrToLua(L, e))
	return 1
}

// errConstructors are the Errors methods (self is arg 1).
var errConstructors = map[string]lua.LGFunction{
	"invalid_primary_key": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidPrimaryKey(errArgTable(L, 2, "primary_key")))
	},
	"invalid_foreign_key": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidForeignKey(errArgTable(L, 2, "foreign_key")))
	},
	"schema_violation": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).SchemaViolation(errArgTable(L, 2, "errors")))
	},
	"primary_key_violation": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).PrimaryKeyViolation(errArgTable(L, 2, "primary_key")))
	},
	"foreign_key_violation_invalid_reference": func(L *lua.LState) int {
		fk := errArgTable(L, 2, "foreign_key")
		field := errArgString(L, 3, "foreign_key_field_name")
		parent := errArgString(L, 4, "parent_name")
		return pushErrT(L, errsOf(L.CheckTable(1)).ForeignKeyViolationInvalidReference(fk, field, parent))
	},
	"foreign_key_violation_restricted": func(L *lua.LState) int {
		parent := errArgString(L, 2, "parent_name")
		child := errArgString(L, 3, "child_name")
		return pushErrT(L, errsOf(L.CheckTable(1)).ForeignKeyViolationRestricted(parent, child))
	},
	"foreign_keys_unresolved": func(L *lua.LState) int {
		errs := errArgTable(L, 2, "errors")
		// { field = { sub = { name =, value =, parent = } } } -> message items.
		for _, k := range dbSortedKeys(errs) {
			sub, ok := errs[k].(map[string]any)
			if !ok {
				continue
			}
			for sk, v := range sub {
				if d, ok := v.(map[string]any); ok {
					name, _ := d["name"].(string)
					parent, _ := d["parent"].(string)
					sub[sk] = "the foreign key cannot be resolved with '" +
						kongdb.Pretty(map[string]any{name: d["value"]}) + "' for an existing '" + parent + "' entity"
				}
			}
		}
		return pushErrT(L, errsOf(L.CheckTable(1)).ForeignKeysUnresolved(errs))
	},
	"unique_violation": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).UniqueViolation(errArgTable(L, 2, "unique_key")))
	},
	"not_found": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).NotFound(errArgTable(L, 2, "primary_key")))
	},
	"not_found_by_field": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).NotFoundByField(errArgTable(L, 2, "filter")))
	},
	"invalid_offset": func(L *lua.LState) int {
		off := errArgString(L, 2, "offset")
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidOffset(off, errArgString(L, 3, "err")))
	},
	"database_error": func(L *lua.LState) int {
		msg, _ := L.Get(2).(lua.LString)
		return pushErrT(L, errsOf(L.CheckTable(1)).DatabaseError(string(msg), nil))
	},
	"transformation_error": func(L *lua.LState) int {
		msg := "transformation error"
		if s, ok := L.Get(2).(lua.LString); ok {
			msg = string(s)
		}
		return pushErrT(L, errsOf(L.CheckTable(1)).TransformationError(msg))
	},
	"invalid_size": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidSize(errArgString(L, 2, "err")))
	},
	"invalid_unique": func(L *lua.LState) int {
		name := dbTostring(L, L.Get(2))
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidUnique(name, errArgString(L, 3, "err")))
	},
	"invalid_options": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidOptions(errArgTable(L, 2, "errors")))
	},
	"operation_unsupported": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).OperationUnsupported(errArgString(L, 2, "err")))
	},
	"declarative_config": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).DeclarativeConfig(errArgTable(L, 2, "err_t")))
	},
	"invalid_workspace": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidWorkspace(errArgString(L, 2, "ws_id")))
	},
	"invalid_unique_global": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).InvalidUniqueGlobal(errArgString(L, 2, "name")))
	},
	"referenced_by_others": func(L *lua.LState) int {
		return pushErrT(L, errsOf(L.CheckTable(1)).ReferencedByOthers(errArgString(L, 2, "err")))
	},
}

func dbSortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
