package pdk

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb/postgres"
)

// kong.db.connector for PostgreSQL, as migrations' up_f/teardown and
// plugins' raw-SQL policies (rate-limiting, session) call it
// (KONG-REFERENCE §4.8): query, iterate, escape_literal,
// escape_identifier, connect, connect_migrations, setkeepalive, close,
// infos, and the config table.

const connectorTypeName = "luahost.pg_connector"

type luaConnector struct {
	c   *postgres.Connector
	ctx func() context.Context
}

// ConnectorValue wraps a PostgreSQL connector for Lua. ctx supplies the
// context of each call (deadline of the running phase); nil = Background.
func ConnectorValue(L *lua.LState, c *postgres.Connector, ctx func() context.Context) lua.LValue {
	if ctx == nil {
		ctx = context.Background
	}
	mt := L.NewTypeMetatable(connectorTypeName)
	if mt.RawGetString("__index") == lua.LNil {
		methods := L.NewTable()
		L.SetFuncs(methods, map[string]lua.LGFunction{
			"query":              connQuery,
			"iterate":            connIterate,
			"escape_literal":     connEscapeLiteral,
			"escape_identifier":  connEscapeIdentifier,
			"connect":            connNoop,
			"connect_migrations": connNoop,
			"setkeepalive":       connNoop,
			"close":              connNoop,
			"infos":              connInfos,
		})
		mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			lc := checkConnector(L, 1)
			key := luavm.CheckString(L, 2)
			if v := methods.RawGetString(key); v != lua.LNil {
				L.Push(v)
				return 1
			}
			if key == "config" {
				cfg := lc.c.Config()
				t := L.NewTable()
				t.RawSetString("host", lua.LString(cfg.Host))
				t.RawSetString("port", lua.LNumber(cfg.Port))
				t.RawSetString("user", lua.LString(cfg.User))
				t.RawSetString("database", lua.LString(cfg.Database))
				t.RawSetString("schema", lua.LString(lc.c.Schema()))
				t.RawSetString("timeout", lua.LNumber(cfg.Timeout.Milliseconds()))
				L.Push(t)
				return 1
			}
			L.Push(lua.LNil)
			return 1
		}))
		mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LString("postgres connector"))
			return 1
		}))
	}
	ud := bind.NewUserData(L, &luaConnector{c: c, ctx: ctx}, mt)
	return ud
}

func checkConnector(L *lua.LState, n int) *luaConnector {
	return bind.CheckUserData[*luaConnector](L, n, "connector expected")
}

// resultToLua turns one statement's result into what pgmoon returns: an
// array of row tables (NULL as ngx.null) for row-returning statements,
// { affected_rows = n } for DML, true for DDL and utility statements.
func resultToLua(L *lua.LState, r *postgres.QueryResult) lua.LValue {
	if r == nil {
		return lua.LTrue
	}
	if r.HasRows {
		t := L.CreateTable(len(r.Rows), 0)
		for i, row := range r.Rows {
			rt := L.CreateTable(0, len(r.Columns))
			for _, col := range r.Columns {
				rt.RawSetString(col, bind.FromValue(L, row[col], nil))
			}
			t.RawSetInt(i+1, rt)
		}
		return t
	}
	if isDML(r.Command) {
		t := L.CreateTable(0, 1)
		t.RawSetString("affected_rows", lua.LNumber(r.AffectedRows))
		return t
	}
	return lua.LTrue
}

func isDML(tag string) bool {
	for _, p := range []string{"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"} {
		if len(tag) >= len(p) && tag[:len(p)] == p {
			return true
		}
	}
	return false
}

func resultsToLua(L *lua.LState, r *postgres.QueryResult) (lua.LValue, int) {
	if r == nil {
		return lua.LNil, 0
	}
	if len(r.Results) > 1 {
		t := L.CreateTable(len(r.Results), 0)
		for i, sub := range r.Results {
			t.RawSetInt(i+1, resultToLua(L, sub))
		}
		return t, len(r.Results)
	}
	return resultToLua(L, r), 1
}

// connector:query(sql, operation) -> res, nil, partial, num_queries | nil, err, partial, num_queries
func connQuery(L *lua.LState) int {
	lc := checkConnector(L, 1)
	sql := luavm.CheckString(L, 2)
	res, err := lc.c.Query(lc.ctx(), sql)
	if err != nil {
		var qe *postgres.QueryError
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		if errors.As(err, &qe) && qe.Partial != nil {
			p, n := resultsToLua(L, qe.Partial)
			L.Push(p)
			L.Push(lua.LNumber(n + 1))
		} else {
			L.Push(lua.LNil)
			L.Push(lua.LNumber(1))
		}
		return 4
	}
	v, n := resultsToLua(L, res)
	L.Push(v)
	L.Push(lua.LNil)
	L.Push(lua.LNil)
	L.Push(lua.LNumber(n))
	return 4
}

// connector:iterate(sql): an iterator over the rows of a read query; on
// error it yields false, err once.
func connIterate(L *lua.LState) int {
	lc := checkConnector(L, 1)
	sql := luavm.CheckString(L, 2)
	res, err := lc.c.Query(lc.ctx(), sql)
	i := 0
	done := false
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if done {
			return 0
		}
		if err != nil {
			done = true
			L.Push(lua.LFalse)
			L.Push(lua.LString(err.Error()))
			return 2
		}
		if res == nil || !res.HasRows {
			done = true
			L.Push(lua.LTrue)
			return 1
		}
		if i >= len(res.Rows) {
			return 0
		}
		row := res.Rows[i]
		i++
		rt := L.CreateTable(0, len(res.Columns))
		for _, col := range res.Columns {
			rt.RawSetString(col, bind.FromValue(L, row[col], nil))
		}
		L.Push(rt)
		return 1
	}))
	return 1
}

func connEscapeLiteral(L *lua.LState) int {
	checkConnector(L, 1)
	v, err := bind.ToValue(L, L.Get(2), nil)
	if err != nil {
		L.ArgError(2, err.Error())
	}
	L.Push(lua.LString(postgres.EscapeLiteral(v)))
	return 1
}

func connEscapeIdentifier(L *lua.LState) int {
	checkConnector(L, 1)
	L.Push(lua.LString(postgres.EscapeIdentifier(luavm.CheckString(L, 2))))
	return 1
}

func connNoop(L *lua.LState) int {
	checkConnector(L, 1)
	L.Push(lua.LTrue)
	return 1
}

func connInfos(L *lua.LState) int {
	lc := checkConnector(L, 1)
	inf := lc.c.Infos()
	t := L.NewTable()
	t.RawSetString("strategy", lua.LString("PostgreSQL"))
	t.RawSetString("db_name", lua.LString(inf.DBName))
	t.RawSetString("db_schema", lua.LString(inf.DBSchema))
	t.RawSetString("db_desc", lua.LString("database"))
	t.RawSetString("db_ver", lua.LString(inf.DBVer))
	t.RawSetString("db_readonly", lua.LBool(inf.DBReadonly))
	L.Push(t)
	return 1
}
