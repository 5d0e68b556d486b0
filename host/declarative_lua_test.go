package host

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// kong.db.declarative's load_into_db writes a flattened configuration into
// kong.db, referenced entities first whatever the table's order, and
// refuses an unknown entity as Kong's does.
func TestDeclarativeLoadIntoDB(t *testing.T) {
	h := newTestHost(t, testConf(t, "../plugins"))
	const src = `
		local declarative = require "kong.db.declarative"
		local sid = "3b9c2302-a610-4925-a7b9-25942309335d"
		local rid = "eb88ccb8-274d-4e7e-b4cb-0d673a4fa93b"
		local cid = "ad06b77c-0d2f-407a-8d6d-07f272a92d6a"
		local entities = {
			routes = { [rid] = { id = rid, name = "bar", paths = { "/p" }, protocols = { "http" },
			                     service = { id = sid }, _tags = ngx.null } },
			services = { [sid] = { id = sid, name = "foo", host = "example.test", port = 80, protocol = "http" } },
			consumers = { [cid] = { id = cid, username = "andru", custom_id = "donalds" } },
		}
		assert(declarative.load_into_db(entities, { _transform = true }))
		-- again: rows upserted by primary key
		assert(declarative.load_into_db(entities, { _transform = false }))
		local route = assert(kong.db.routes:select_by_name("bar"))
		local consumer = assert(kong.db.consumers:select_by_username("andru"))
		local ok, err = declarative.load_into_db({ nope = {} })
		return route.service.id .. "," .. consumer.custom_id .. "," .. tostring(ok) .. "," .. err`
	var got string
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		fn, err := w.L.LoadString(src)
		if err != nil {
			return err
		}
		if err := w.call(fn, 1); err != nil {
			return err
		}
		got = lua.LVAsString(w.L.Get(-1))
		w.L.Pop(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "3b9c2302-a610-4925-a7b9-25942309335d,donalds,nil,unknown entity: nope"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
