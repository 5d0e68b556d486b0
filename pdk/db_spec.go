package pdk

// kong.db bound over another host's DB: spec.helpers' db (Kong's
// get_db_utils returns a DB.new of the spec's own process). It is the same
// binding as a worker's kong.db (db.go, db_dao.go, db_methods.go), made in
// the spec's state over the DB of the node the spec runs, which changes with
// each get_db_utils and start_kong.

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
)

// SpecDB is a kong.db in a state that is not one of the DB's workers.
type SpecDB struct {
	st *dbState
}

// NewSpecDB makes a kong.db for in's state, bound to nothing until Bind.
func NewSpecDB(in *Instance) *SpecDB {
	return &SpecDB{st: makeDBState(in)}
}

// Bind points the kong.db at root's DB (root.DB must be set) and returns
// its Lua table, the same table at every call: the schemas' Lua functions
// run by funcs (a worker of root's host), the DAOs' post_crud_event is
// dispatched by root, and afterWrite (nil: none) runs after each write
// that succeeded. Bound to another DB, the DAO objects already handed out
// are rebound to that DB's DAO of the same entity; an entity the new DB
// lacks is gone from the table (the objects kept keep the old DAO).
func (v *SpecDB) Bind(root *Root, funcs schema.FuncRunner, afterWrite func() error) *lua.LTable {
	st := v.st
	st.funcs, st.hooks, st.afterWrite = funcs, root, afterWrite
	if st.db == root.DB && st.kdb != nil {
		return st.kdb
	}
	st.db = root.DB
	st.errorsObj = newErrorsObject(st.in.L, lua.LString(st.db.Strategy()))
	if st.kdb == nil {
		st.kdb = st.newDBTable()
		return st.kdb
	}
	st.setDBFields(st.kdb)
	for name, b := range st.bindings {
		d := st.db.DAO(name)
		if d == nil {
			delete(st.bindings, name)
			st.daos.RawSetString(name, lua.LNil)
			st.kdb.RawSetString(name, lua.LNil)
			continue
		}
		root.installCrudHook(d)
		b.setDAO(d)
	}
	return st.kdb
}

// Suspend leaves the kong.db bound to a DB about to be closed (its node
// stops) until its next use, which calls rebind first (rebind calls Bind).
// A spec's db outlives the nodes it sees, as Kong's get_db_utils' own DB
// does; the DAO objects and connector already handed out follow, except a
// connector kept aside before Suspend.
func (v *SpecDB) Suspend(rebind func() error) {
	st := v.st
	if st.kdb == nil {
		return
	}
	st.suspended = rebind
	st.kdb.RawSetString("connector", lua.LNil)
}
