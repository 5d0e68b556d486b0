package pdk

import (
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

// An entity read from Lua is built with its field names boxed once per
// schema and each table's hash filled at its final size: a credential row
// (4 fields with a foreign key, and its ttl) costs a fixed, small number
// of allocations, and reads back as Kong returns it.
func TestRowToLuaAllocations(t *testing.T) {
	in, db := newDBState(t)
	cid := insertConsumer(t, db, "bob")
	doLua(t, in, `assert(kong.db.keyauth_credentials)`)
	b := in.db.binding("keyauth_credentials")
	row := map[string]any{"id": "6e3bd0a4-9a7e-4b43-9dbb-1e7d2f0f8a11", "created_at": 1733370000.0,
		"consumer": map[string]any{"id": cid}, "key": "secret", "ttl": schema.Null}

	allocs := testing.AllocsPerRun(200, func() { b.rowToLua(row) })
	// the entity and its foreign key's table, each: the table with its key
	// list (one allocation), its string map and its key index (two each);
	// the key "ttl" (not a field). The values share the row's boxes
	// (luavm.LValueOf). (RawSetString, key by key: 29; boxing each value
	// again and the key list apart: 17)
	const budget = 11
	t.Logf("rowToLua: %.0f allocations", allocs)
	if allocs > budget {
		t.Errorf("rowToLua allocates %.0f times per row, budget %d", allocs, budget)
	}

	in.L.SetGlobal("row", b.rowToLua(row))
	doLua(t, in, `
		assert(row.id == "6e3bd0a4-9a7e-4b43-9dbb-1e7d2f0f8a11" and row.created_at == 1733370000 and row.key == "secret")
		assert(type(row.consumer) == "table" and row.consumer.id == "`+cid+`")
		assert(row.ttl == ngx.null)
		local keys = {} for k in pairs(row) do keys[#keys + 1] = k end
		assert(table.concat(keys, ",") == "id,created_at,consumer,key,ttl", table.concat(keys, ","))
		local n = 0 for k in pairs(row.consumer) do n = n + 1 end assert(n == 1)
	`)
}
