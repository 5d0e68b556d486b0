package bench

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// kong.db.<dao>:select_by_<unique>(key) from Lua on PostgreSQL allocates
// a bounded number of times per call: the row is decoded from pgx's raw
// values once (the strings of a row in one buffer, their boxes shared by
// the Go row and the Lua table), the statement and its arguments are
// not rebuilt for each call, and the Lua table is built in one go. (Raw
// pgx, the query and pgx.RowToMap: 22; before this budget: 47; measured
// since: 24.)
func TestSelectByUniqueAllocs(t *testing.T) {
	h, w := selectHost(t, "postgres")
	defer h.Close()
	defer h.Pool.Release(w)
	fn := w.L.GetGlobal("bench_select")
	call := func() lua.LValue {
		if err := w.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
			t.Fatal(err)
		}
		v := w.L.Get(-1)
		w.L.Pop(1)
		return v
	}
	// the row still reads back as Kong's
	w.L.SetGlobal("cred", call())
	if err := w.DoString("check.lua", `
		assert(type(cred.id) == "string" and #cred.id == 36, tostring(cred.id))
		assert(type(cred.created_at) == "number" and cred.created_at % 1 == 0)
		assert(type(cred.consumer) == "table" and type(cred.consumer.id) == "string" and #cred.consumer.id == 36)
		local n = 0 for k in pairs(cred.consumer) do n = n + 1 end assert(n == 1)
		assert(cred.key == "bench-key")
		assert(cred.ws_id == nil and cred.label == nil and cred.tags == nil and cred.ttl == nil)
		local keys = {} for k in pairs(cred) do keys[#keys + 1] = k end
		assert(table.concat(keys, ",") == "id,created_at,consumer,key", table.concat(keys, ","))
	`); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() { call() })
	const budget = 26
	t.Logf("select_by_key from Lua: %.0f allocations", allocs)
	if allocs > budget {
		t.Errorf("select_by_key from Lua allocates %.0f times per call, budget %d", allocs, budget)
	}
}
