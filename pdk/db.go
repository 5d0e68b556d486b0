package pdk

// kong.db (Kong's kong/db/init.lua as a plugin sees it): a table whose
// __index gives the DAO of an entity by name, plus strategy, errors,
// connector and daos. The DAOs themselves are in db_dao.go, their methods
// in db_methods.go, the Lua schema objects in db_schema.go.

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
)

// dbState is one worker's kong.db: its DAO objects, schema objects and the
// context its calls run with.
type dbState struct {
	in   *Instance
	db   *kongdb.DB // nil: no kong.db (the schema modules still work)
	kdb  *lua.LTable
	daos *lua.LTable

	bindings map[string]*daoBinding
	keys     luaKeys // field names as Lua keys, for the rows it converts
	// keyBuf and cacheKeys: dao:cache_key(string)'s buffer and the keys it
	// answered lately, as Lua strings (internKey)
	keyBuf     []byte
	cacheKeys  luavm.Strings
	errorsObj  *lua.LTable
	schemaMT   *lua.LTable // metatable of Lua schema objects
	schemaObjs map[*lua.LTable]*schema.Schema
	objOf      map[*schema.Schema]*lua.LTable
	owned      map[*schema.Schema]bool // made by Schema.new / Entity.new here

	// Lua functions met in Schema.new / Entity.new definitions, run by
	// runner in this state.
	luaFuncs   map[string]lua.LValue
	luaSchemas map[string]*schema.Schema
	nfuncs     int
	runner     luaRunner

	// The context of the last call, reused while its parent (the worker's
	// deadline context) and workspace are the same: no allocation per call.
	// (The runner in it reads in.Runner at each call.)
	ctxParent context.Context
	ctxWS     string
	ctxVal    context.Context

	// pendingErr is a Lua error raised by a post_crud_event override run
	// from inside a Go DAO call; the binding re-raises it when the call
	// returns, as Kong's Lua would have propagated it.
	pendingErr error

	// Set for a kong.db bound over another host's DB (SpecDB): funcs runs
	// the schemas' Lua functions in a worker of that host, hooks is that
	// host's root (its DAOs' post_crud_event dispatch), afterWrite runs
	// after each write that succeeded.
	funcs      schema.FuncRunner
	hooks      *Root
	afterWrite func() error
	// suspended, when set, binds the kong.db again before its next use
	// (SpecDB.Suspend: its DB was closed under it).
	suspended func() error
}

// resume runs the rebinding a Suspend left, if any, raising its error.
func (st *dbState) resume(L *lua.LState) {
	f := st.suspended
	if f == nil {
		return
	}
	st.suspended = nil
	if err := f(); err != nil {
		L.RaiseError("%s", err.Error())
	}
}

// makeDBState is an empty kong.db binding state for in's Lua state.
func makeDBState(in *Instance) *dbState {
	st := &dbState{
		in:         in,
		bindings:   map[string]*daoBinding{},
		schemaObjs: map[*lua.LTable]*schema.Schema{},
		objOf:      map[*schema.Schema]*lua.LTable{},
		owned:      map[*schema.Schema]bool{},
		luaFuncs:   map[string]lua.LValue{},
		luaSchemas: map[string]*schema.Schema{},
	}
	st.runner.st = st
	return st
}

// OpenDB installs kong.db (from Root.DB) and the modules "kong.db.errors"
// and "luahost.schema" (behind the embedded kong.db.schema and
// kong.db.schema.entity) into a worker. The host calls it after Root.Open
// and after setting in.Runner. It may be called twice: once right after
// Root.Open (so that plugins' schema.lua / daos.lua can require
// kong.db.schema while they load, before the DB exists), and again once
// Root.DB is set, which then adds kong.db. DAO objects are built on first
// use, so entities registered later are found too.
func OpenDB(in *Instance) {
	L := in.L
	st := in.db
	if st == nil {
		st = makeDBState(in)
		in.db = st
		L.PreloadModule("kong.db.errors", func(L *lua.LState) int {
			L.Push(errorsModule(L))
			return 1
		})
		L.PreloadModule("luahost.schema", st.openSchemaModule)
	}
	if st.db != nil || in.Root.DB == nil {
		return
	}
	st.db = in.Root.DB
	st.errorsObj = newErrorsObject(L, lua.LString(st.db.Strategy()))
	st.kdb = st.newDBTable()
	kong, ok := L.GetGlobal("kong").(*lua.LTable)
	if !ok {
		kong = L.NewTable()
		L.SetGlobal("kong", kong)
	}
	kong.RawSetString("db", st.kdb)
}

// InstallDBHooks makes every DAO of r.DB call a post_crud_event defined in
// Lua (a custom DAO module's override) when a write comes from a worker.
// OpenDB does it lazily per entity; the host calls this once after
// registering the plugins' entities, before serving, so that no write
// races with the installation.
func (r *Root) InstallDBHooks() {
	if r.DB == nil {
		return
	}
	for _, n := range r.DB.Names() {
		if d := r.DB.DAO(n); d != nil {
			r.installCrudHook(d)
		}
	}
}

// ctx returns the context of a kong.db call: the worker's deadline context
// with the FuncRunner of this worker and the request's workspace
// (ngx.ctx.workspace).
func (st *dbState) ctx() context.Context {
	in := st.in
	parent := in.L.Context()
	if parent == nil {
		parent = context.Background()
	}
	ws := ""
	if s, ok := in.CtxGetString("workspace").(lua.LString); ok {
		ws = string(s)
	}
	if st.ctxVal != nil && st.ctxParent == parent && st.ctxWS == ws {
		return st.ctxVal
	}
	c := schema.WithFuncRunner(parent, &st.runner)
	if d := st.hookRoot().Deprecated; d != nil {
		c = schema.WithDeprecationHandler(c, d)
	}
	if ws != "" {
		c = kongdb.WithWorkspace(c, ws)
	}
	st.ctxParent, st.ctxWS, st.ctxVal = parent, ws, c
	return c
}

// luaRunner runs the Lua functions of schemas: those of Schema.new
// definitions made in this state itself, the others (daos.lua, schema.lua)
// through the worker's Runner.
type luaRunner struct{ st *dbState }

func (r *luaRunner) CallFunc(ctx context.Context, fn *schema.Func, args ...any) ([]any, error) {
	st := r.st
	if lf, ok := st.luaFuncs[fn.Ref]; ok {
		return st.callLua(lf, args)
	}
	if v := schema.BuiltinValidatorFor(fn); v != nil && len(args) > 0 {
		// A typedef's Go validator behind a marker a schema kept as a
		// function (schemas built in Go): Lua's `true` or `nil, err`.
		if ok, msg := v(args[0]); !ok {
			return []any{nil, msg}, nil
		}
		return []any{true}, nil
	}
	if st.funcs != nil {
		return st.funcs.CallFunc(ctx, fn, args...)
	}
	if st.in.Runner != nil {
		return st.in.Runner.CallFunc(ctx, fn, args...)
	}
	return nil, &lua.ApiError{Type: lua.ApiErrorRun, Object: lua.LString("no Lua function " + fn.Ref)}
}

// callLua calls lf(args...) protected and returns its results in the value
// model.
func (st *dbState) callLua(lf lua.LValue, args []any) ([]any, error) {
	L := st.in.L
	top := L.GetTop()
	L.Push(lf)
	for _, a := range args {
		L.Push(bind.FromValue(L, a, st.resolveFunc))
	}
	if err := luavm.PCall(L, len(args), lua.MultRet, false); err != nil {
		L.SetTop(top)
		return nil, err
	}
	n := L.GetTop() - top
	out := make([]any, n)
	for i := 0; i < n; i++ {
		v, err := bind.ToValue(L, L.Get(top+1+i), st.funcNamer("luahost.ret"))
		if err != nil {
			L.SetTop(top)
			return nil, err
		}
		out[i] = v
	}
	L.SetTop(top)
	return out, nil
}

// funcNamer registers Lua functions met in a definition under prefix.
func (st *dbState) funcNamer(prefix string) bind.FuncNamer {
	return func(path string, fn lua.LValue) *schema.Func {
		if ud, ok := fn.(*lua.LUserData); ok {
			if f, ok := ud.Value.(*schema.Func); ok {
				return f
			}
		}
		ref := prefix + ":" + path
		st.luaFuncs[ref] = fn
		return &schema.Func{Ref: ref}
	}
}

func (st *dbState) resolveFunc(f *schema.Func) lua.LValue {
	if lf, ok := st.luaFuncs[f.Ref]; ok {
		return lf
	}
	ud := st.in.L.NewUserData()
	ud.Value = f
	return ud
}

// newDBTable builds kong.db.
func (st *dbState) newDBTable() *lua.LTable {
	L := st.in.L
	t := L.NewTable()
	st.setDBFields(t)
	st.daos = L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"truncate": func(L *lua.LState) int {
			st.resume(L)
			name := ""
			switch v := L.Get(2).(type) {
			case lua.LString:
				name = string(v)
			case *lua.LNilType:
			default:
				L.RaiseError("table_name must be a string")
			}
			err := st.db.Truncate(st.ctx(), name)
			st.written(L, err)
			if err != nil {
				return bind.Fail(L, err.Error())
			}
			L.Push(lua.LTrue)
			return 1
		},
		// db:reset (Kong's DB:reset): every table dropped
		"reset": func(L *lua.LState) int {
			st.resume(L)
			err := st.db.Reset(st.ctx())
			if errors.Is(err, kongdb.ErrResetUnsupported) {
				L.RaiseError("reset() not implemented for '%s' strategy", st.db.Strategy())
			}
			if err != nil {
				return bind.Fail(L, err.Error())
			}
			L.Push(lua.LTrue)
			return 1
		},
		"connect":      dbTrue,
		"setkeepalive": dbTrue,
		"close":        dbTrue,
		"init_worker":  dbTrue,
	})
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k, ok := L.Get(2).(lua.LString)
		if !ok {
			return 0
		}
		if st.suspended != nil {
			// a field Suspend took away (connector) is back once bound
			st.resume(L)
			if v := t.RawGet(k); v != lua.LNil {
				L.Push(v)
				return 1
			}
		}
		if k == "daos" {
			st.syncDaos()
			L.Push(st.daos)
			return 1
		}
		b := st.binding(string(k))
		if b == nil {
			return 0
		}
		L.Push(b.self)
		return 1
	}))
	t.Metatable = mt
	return t
}

// setDBFields sets kong.db's fields that depend on the DB: strategy,
// errors, connector, infos.
func (st *dbState) setDBFields(t *lua.LTable) {
	L := st.in.L
	t.RawSetString("strategy", lua.LString(st.db.Strategy()))
	t.RawSetString("errors", st.errorsObj)
	// kong.db.connector: nil for the embedded strategy ("off"), as in
	// DB-less Kong; the PostgreSQL connector (db_connector.go) for postgres.
	var conn lua.LValue = lua.LNil
	if pg, ok := st.db.Connector().(*postgres.Connector); ok {
		conn = ConnectorValue(L, pg, st.ctx)
	}
	t.RawSetString("connector", conn)
	infos := L.NewTable()
	if st.db.Strategy() == "postgres" {
		infos.RawSetString("strategy", lua.LString("PostgreSQL"))
	} else {
		infos.RawSetString("strategy", lua.LString("off"))
	}
	infos.RawSetString("db_desc", lua.LString("database"))
	t.RawSetString("infos", infos)
}

// written runs afterWrite once a write has succeeded (err == nil); its
// failure raises.
func (st *dbState) written(L *lua.LState, err error) {
	if err != nil || st.afterWrite == nil {
		return
	}
	if err := st.afterWrite(); err != nil {
		L.RaiseError("%s", err.Error())
	}
}

// hookRoot is the root whose post_crud_event dispatch the DAOs get.
func (st *dbState) hookRoot() *Root {
	if st.hooks != nil {
		return st.hooks
	}
	return st.in.Root
}

func dbTrue(L *lua.LState) int {
	L.Push(lua.LTrue)
	return 1
}

// syncDaos fills kong.db.daos with every registered entity.
func (st *dbState) syncDaos() {
	for _, n := range st.db.Names() {
		if st.daos.RawGetString(n) == lua.LNil {
			st.binding(n)
		}
	}
}

// binding returns the DAO object of entity name in this worker, building
// it on first use; nil when there is no such entity.
func (st *dbState) binding(name string) *daoBinding {
	if b, ok := st.bindings[name]; ok {
		return b
	}
	if st.db == nil {
		return nil
	}
	d := st.db.DAO(name)
	if d == nil {
		return nil
	}
	st.hookRoot().installCrudHook(d)
	b := st.newBinding(d)
	st.bindings[name] = b
	st.daos.RawSetString(name, b.self)
	// Later lookups of kong.db.<name> are plain table reads.
	st.kdb.RawSetString(name, b.self)
	if b.custom != "" {
		st.loadCustomDAO(b)
	}
	return b
}

// installCrudHook points d's post_crud_event at a dispatcher that runs a
// Lua override of the calling worker when there is one (a custom DAO
// module's post_crud_event), else Kong's default. A write that does not
// come from a worker runs the override of a custom DAO module in a worker
// lent by Root.InWorker. Once per DAO, and every caller returns after the
// hook is in place.
func (r *Root) installCrudHook(d *kongdb.DAO) {
	v, _ := r.dbHooks.LoadOrStore(d, new(sync.Once))
	v.(*sync.Once).Do(func() {
		d.PostCrudEvent = func(ctx context.Context, op string, entity, old kongdb.Row, o *kongdb.Options) {
			if lr, ok := schema.FuncRunnerFrom(ctx).(*luaRunner); ok && lr.st.in.Root == r {
				if b := lr.st.bindings[d.Schema.Name]; b != nil && b.dao == d {
					if fn := b.override(); fn != nil {
						b.callOverride(fn, op, entity, old, o)
						return
					}
				}
				d.DefaultPostCrudEvent(ctx, op, entity, old, o)
				return
			}
			if hasLuaDAOModule(d.Schema) && r.InWorker != nil && r.overrideInWorker(d, op, entity, old, o) {
				return
			}
			d.DefaultPostCrudEvent(ctx, op, entity, old, o)
		}
	})
}

// hasLuaDAOModule reports whether the entity names a custom DAO module of
// a plugin (core entities' kong.db.dao.* modules are part of the Go DAO).
func hasLuaDAOModule(s *schema.Schema) bool {
	return s.DAO != "" && !strings.HasPrefix(s.DAO, "kong.db.dao.")
}

// overrideInWorker runs post_crud_event of d's DAO object in a lent
// worker; false when no worker was lent. An error of the override is
// logged (there is no Lua caller to raise it to).
func (r *Root) overrideInWorker(d *kongdb.DAO, op string, entity, old kongdb.Row, o *kongdb.Options) bool {
	return r.InWorker(func(in *Instance) {
		st := in.db
		if st == nil || st.db == nil {
			d.DefaultPostCrudEvent(context.Background(), op, entity, old, o)
			return
		}
		L := in.L
		run := L.NewFunction(func(L *lua.LState) int {
			b := st.binding(d.Schema.Name)
			if b == nil {
				return 0
			}
			if fn := b.override(); fn != nil {
				b.callOverride(fn, op, entity, old, o)
				if err := st.pendingErr; err != nil {
					st.pendingErr = nil
					L.RaiseError("%s", apiErrMsg(err))
				}
				return 0
			}
			d.DefaultPostCrudEvent(st.ctx(), op, entity, old, o)
			return 0
		})
		if err := luavm.CallProtected(L, run, 0, false); err != nil {
			logger := r.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Error("[db] failed to run post_crud_event", "entity", d.Schema.Name, "op", op, "err", apiErrMsg(err))
		}
	})
}

// maxInternedKeys bounds dbState.cacheKeys (the keys are the clients' tokens,
// ids ...: any number of them).
const maxInternedKeys = 1024

// internKey is b as a Lua string, the same value as the last time
// cache_key produced these bytes: a plugin that computes its cache key on
// every request (token-auth: kong.db.x:cache_key(token), then
// kong.cache:get) gets it without allocating. The table is emptied when
// full.
func (s *dbState) internKey(b []byte) lua.LValue {
	return s.cacheKeys.Get(b, maxInternedKeys, math.MaxInt)
}
