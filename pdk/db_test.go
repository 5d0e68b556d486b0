package pdk

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/schema"
)

func TestDBNamespace(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local db = kong.db
		local names = {}
		for name in pairs(db.daos) do names[#names + 1] = name end
		table.sort(names)
		return db.strategy, db.connector, db.errors.codes.UNIQUE_VIOLATION, db.errors.NOT_FOUND,
		       db.consumers == db.daos.consumers, db.nope, db.consumers.schema.name,
		       table.concat(names, ","), db.keyauth_credentials.db == db
	`, "off", "nil", "5", "6", "true", "nil", "consumers",
		"ca_certificates,certificates,consumers,dbtest_groups,keyauth_credentials,parameters,plugins,routes,services,snis,tags,targets,upstreams,workspaces", "true")
}

func TestDBSelect(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		cid := insertConsumer(t, db, "bob")
		wantResults(t, in, `
		local id = ...
		local c = kong.db.consumers:select({ id = "`+cid+`" })
		local missing, err, err_t = kong.db.consumers:select({ id = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11" })
		local bad, berr, berr_t = kong.db.consumers:select({ id = "x" })
		return c.username, c.custom_id, missing, err, err_t, bad, berr, berr_t.code, berr_t.name, berr_t.fields.id
	`, "bob", "nil", "nil", "nil", "nil", "nil",
			`[off] invalid primary key: '{id="expected a valid UUID"}'`, "1", "invalid primary key", "expected a valid UUID")

		// nulls = true keeps ngx.null for empty fields
		wantResults(t, in, `
		local c = kong.db.consumers:select({ id = "`+cid+`" }, { nulls = true })
		return c.custom_id == ngx.null
	`, "true")
	})
}

func TestDBArgErrorsRaiseAtCaller(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, _ *kongdb.DB) {
		for src, want := range map[string]string{
			"kong.db.consumers:select(\"x\")":                      "test.lua:1: primary_key must be a table",
			"kong.db.consumers:insert(\"x\")":                      "test.lua:1: entity must be a table",
			"kong.db.consumers:select({}, 1)":                      "test.lua:1: options must be a table when specified",
			"kong.db.consumers:page(\"x\")":                        "test.lua:1: size must be a number",
			"kong.db.consumers:page(10, 1)":                        "test.lua:1: offset must be a string",
			"kong.db.keyauth_credentials:select_by_key(12)":        "test.lua:1: key must be a string",
			"kong.db.consumers:cache_key(true)":                    "test.lua:1: key must be a string or an entity table",
			"kong.db.consumers:each(\"x\")":                        "test.lua:1: size must be a number",
			"kong.db.keyauth_credentials:page_for_consumer(\"x\")": "test.lua:1: foreign_key must be a table",
		} {
			got := luaErr(t, in, src)
			if !strings.HasPrefix(got, want) {
				t.Errorf("%s\n got: %s\nwant: %s", src, got, want)
			}
		}
	})
}

func TestDBInsertAndErrors(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		cid := insertConsumer(t, db, "bob")
		wantResults(t, in, `
		local k, err = kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" }, key = "secret" })
		assert(k, err)
		local auto = assert(kong.db.keyauth_credentials:insert({ consumer = { id = "`+cid+`" } }))
		local nocons = assert(kong.db.keyauth_credentials:insert({ key = "lonely" }))
		return type(k.id), #k.id, type(k.created_at), k.key, k.consumer.id == "`+cid+`",
		       #auto.key, nocons.consumer, rawget(nocons, "consumer")
	`, "string", "36", "number", "secret", "true", "32", "nil", "nil")

		cases := []struct{ src, err, code string }{
			{`return kong.db.keyauth_credentials:insert({ key = "secret" })`,
				`[off] UNIQUE violation detected on '{key="secret"}'`, "5"},
			{`return kong.db.keyauth_credentials:insert({ consumer = { id = "x" } })`,
				`[off] schema violation (consumer.id: expected a valid UUID)`, "2"},
			{`return kong.db.keyauth_credentials:insert({ consumer = { id = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11" } })`,
				`[off] the foreign key '{id="6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11"}' does not reference an existing 'consumers' entity.`, "4"},
			{`return kong.db.keyauth_credentials:insert({ key = "k2" }, { ttl = 10 })`,
				`[off] invalid option (ttl: cannot be used with 'keyauth_credentials')`, "11"},
			{`return kong.db.keyauth_credentials:insert({ nope = 1 })`,
				`[off] schema violation (nope: unknown field)`, "2"},
		}
		for _, c := range cases {
			c.err = strings.ReplaceAll(c.err, "[off]", "["+db.Strategy()+"]")
			got := results(t, in, c.src+"\n")
			if len(got) != 3 || got[0] != "nil" || got[1] != c.err {
				t.Errorf("%s\n got: %q\nwant: nil, %q, err_t", c.src, got, c.err)
				continue
			}
			wantResults(t, in, "local _, err, err_t = (function() "+c.src+" end)()\n"+
				"return err_t.code, tostring(err_t) == err, getmetatable(err_t).__tostring ~= nil, err_t.strategy",
				c.code, "true", "true", db.Strategy())
		}
		// fields vs options
		wantResults(t, in, `
		local _, _, e1 = kong.db.keyauth_credentials:insert({ key = "secret" })
		local _, _, e2 = kong.db.keyauth_credentials:insert({ key = "k3" }, { ttl = 10 })
		return e1.fields.key, e1.options, e2.options.ttl, e2.fields, "x: " .. e1, e1 .. "!"
	`, "secret", "nil", "cannot be used with 'keyauth_credentials'", "nil",
			`x: [off] UNIQUE violation detected on '{key="secret"}'`, `[off] UNIQUE violation detected on '{key="secret"}'!`)
	})
}

func TestDBUpdateUpsertDelete(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		cid := insertConsumer(t, db, "bob")
		const missing = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11"
		wantResults(t, in, `
		local dao = kong.db.keyauth_credentials
		local k = assert(dao:insert({ consumer = { id = "`+cid+`" }, key = "secret" }))
		local u = assert(dao:update({ id = k.id }, { key = "updated_secret" }))
		local nf, nferr, nft = dao:update({ id = "`+missing+`" }, { key = "x" })
		local ub = assert(dao:update_by_key("updated_secret", { key = "third" }))
		local nfb, nfberr = dao:update_by_key("nope", { key = "x" })
		return u.id == k.id, u.key, u.created_at == k.created_at, nf, nferr, nft.code, ub.key, nfb, nfberr
	`, "true", "updated_secret", "true", "nil", `[off] could not find the entity with primary key '{id="`+missing+`"}'`,
			"6", "third", "nil", `[off] could not find the entity with '{key="nope"}'`)

		wantResults(t, in, `
		local dao = kong.db.keyauth_credentials
		local created = assert(dao:upsert({ id = "`+missing+`" }, { consumer = { id = "`+cid+`" }, key = "up1" }))
		local replaced = assert(dao:upsert({ id = "`+missing+`" }, { key = "up2" }))
		local byk = assert(dao:upsert_by_key("up3", { consumer = { id = "`+cid+`" } }))
		return created.id, created.key, replaced.key, replaced.consumer, byk.key, type(byk.id)
	`, missing, "up1", "up2", "nil", "up3", "string")

		wantResults(t, in, `
		local dao = kong.db.keyauth_credentials
		local ok1 = dao:delete({ id = "`+missing+`" })
		local gone = dao:select({ id = "`+missing+`" })
		local ok2 = dao:delete({ id = "`+missing+`" })
		local ok3 = dao:delete_by_key("up3")
		local ok4 = dao:delete_by_key("up3")
		return ok1, gone, ok2, ok3, ok4, dao:select_by_key("up3")
	`, "true", "nil", "true", "true", "true", "nil")
	})
}

func TestDBPageAndEach(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		for _, u := range []string{"a", "b", "c", "d", "e"} {
			insertConsumer(t, db, u)
		}
		wantResults(t, in, `
		local dao = kong.db.consumers
		local rows, err, err_t, offset = dao:page(2)
		local rows2, _, _, offset2 = dao:page(2, offset)
		local rows3, _, _, offset3 = dao:page(2, offset2)
		local all = dao:page()
		local names = {}
		for _, r in ipairs(all) do names[#names + 1] = r.username end
		table.sort(names)
		return #rows, err, err_t, type(offset), #rows2, #rows3, offset3,
		       getmetatable(rows) == require("cjson").array_mt, table.concat(names)
	`, "2", "nil", "nil", "string", "2", "1", "nil", "true", "abcde")

		wantResults(t, in, `
		local n, pages, names = 0, {}, {}
		for row, err, page in kong.db.consumers:each(2) do
			assert(not err, err)
			n = n + 1
			pages[#pages + 1] = page
			names[#names + 1] = row.username
		end
		table.sort(names)
		return n, table.concat(pages, ","), table.concat(names)
	`, "5", "1,1,2,2,3", "abcde")

		wantResults(t, in, `
		local it, err, err_t = kong.db.consumers:each(0)
		local rows, perr, pt = kong.db.consumers:page(0)
		local _, oerr, ot = kong.db.consumers:page(1, "bad offset")
		return it, err, err_t.code, rows, perr, pt.code, oerr, ot.code
	`, "nil", "[off] size must be an integer between 1 and 50000", "9", "nil",
			"[off] size must be an integer between 1 and 50000", "9",
			"[off] 'bad offset' is not a valid offset: bad base64 encoding", "7")
	})
}

func TestDBForeignAndCacheKeys(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		cid := insertConsumer(t, db, "bob")
		other := insertConsumer(t, db, "alice")
		wantResults(t, in, `
		local dao = kong.db.keyauth_credentials
		for i = 1, 3 do assert(dao:insert({ consumer = { id = "`+cid+`" }, key = "k" .. i })) end
		assert(dao:insert({ consumer = { id = "`+other+`" }, key = "other" }))
		local rows, err, _, offset = dao:page_for_consumer({ id = "`+cid+`" }, 2)
		local keys = {}
		for row, err in dao:each_for_consumer({ id = "`+cid+`" }) do
			assert(not err, err)
			keys[#keys + 1] = row.key
		end
		table.sort(keys)
		local it = dao:each_for_consumer({ id = "x" })
		local a, b, c = it()
		local d = it()
		return #rows, err, type(offset), table.concat(keys, ","), a, b, c.code, d
	`, "2", "nil", "string", "k1,k2,k3", "false", `[off] invalid primary key: '{id="expected a valid UUID"}'`, "1", "nil")

		wantResults(t, in, `
		local dao = kong.db.keyauth_credentials
		local byck = dao:select_by_cache_key("k1")
		return dao:cache_key("abc"), dao:cache_key("a", "b", nil, "d"), dao:cache_key({ key = "k1" }),
		       byck.key, dao:select_by_cache_key("nope")
	`, "keyauth_credentials:abc:::::", "keyauth_credentials:a:b::d::", "keyauth_credentials:k1:::::", "k1", "nil")

		ws, err := db.DefaultWorkspace(schema.WithFuncRunner(context.Background(), builtinRunner{}))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, in, `
		local g = assert(kong.db.dbtest_groups:insert({ consumer = { id = "`+cid+`" }, group = "admins" }))
		local found = kong.db.dbtest_groups:select_by_cache_key({ consumer = { id = "`+cid+`" }, group = "admins" })
		return kong.db.dbtest_groups:cache_key(g), found and found.id == g.id, kong.db.consumers:cache_key("`+cid+`")
	`, "dbtest_groups:"+cid+":admins::::"+ws, "true", "consumers:"+cid+":::::"+ws)

		// ngx.ctx.workspace scopes cache keys
		wantResults(t, in, `
		ngx.ctx.workspace = "11111111-2222-4333-8444-555555555555"
		local k = kong.db.consumers:cache_key("x")
		ngx.ctx.workspace = nil
		return k
	`, "consumers:x:::::11111111-2222-4333-8444-555555555555")
	})
}

func TestDBTTLAndTruncate(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		cid := insertConsumer(t, db, "bob")
		wantResults(t, in, `
		local g = assert(kong.db.dbtest_groups:insert({ consumer = { id = "`+cid+`" }, group = "g" }, { ttl = 100 }))
		local sel = kong.db.dbtest_groups:select({ id = g.id })
		local _, err = kong.db.dbtest_groups:insert({ consumer = { id = "`+cid+`" }, group = "h" }, { ttl = -1 })
		local ok = kong.db.dbtest_groups:truncate()
		return type(sel.ttl), sel.ttl <= 100 and sel.ttl > 0, err, ok, kong.db.dbtest_groups:select({ id = g.id })
	`, "number", "true", "[off] invalid option (ttl: must be an integer between 0 and 100000000)", "true", "nil")
	})
}

func TestDBSchemaObject(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local s = kong.db.keyauth_credentials.schema
		local names = {}
		for name, def in s:each_field() do names[#names + 1] = name .. ":" .. def.type end
		local ok, errs = s:validate({ key = 1 })
		local ok2 = s:validate({ key = "x" }, false)
		return s.name, s.primary_key[1], s.cache_key[1], s.endpoint_key, s.ttl, s.fields.key.unique,
		       next(s.fields[4]), table.concat(names, ","), ok, errs.key, ok2, s.fields.consumer.reference
	`, "keyauth_credentials", "id", "key", "key", "nil", "true", "key",
		"id:string,created_at:integer,consumer:foreign,key:string", "nil", "expected a string", "true", "consumers")
}

func TestDBCustomDAO(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		rec := &kongdbtest.Recorder{}
		db.SetEventHandler(rec)
		cid := insertConsumer(t, db, "bob")
		rec.Take()
		doLua(t, in, `
		package.preload["dbtest.groups_dao"] = function()
			local Groups = {}
			function Groups:post_crud_event(operation, entity, old_entity, options)
				calls = (calls or "") .. operation .. ":" .. entity.group
				        .. (options and options.no_broadcast_crud_event and "(quiet)" or "") .. ";"
				return self.super.post_crud_event(self, operation, entity, old_entity, options)
			end
			function Groups:insert_group(consumer_id, group)
				return self.super.insert(self, { consumer = { id = consumer_id }, group = group })
			end
			function Groups:count_pages()
				local rows = assert(self.strategy:page(10))
				return #rows
			end
			return Groups
		end
	`)
		wantResults(t, in, `
		local dao = kong.db.dbtest_groups
		local g = assert(dao:insert_group("`+cid+`", "admins"))
		assert(dao:update({ id = g.id }, { group = "ops" }))
		assert(dao:delete({ id = g.id }))
		assert(dao:insert({ consumer = { id = "`+cid+`" }, group = "quiet" }, { no_broadcast_crud_event = true }))
		return calls, dao:count_pages(), type(dao.super.insert), dao.errors == kong.db.errors
	`, "create:admins;update:ops;delete:ops;create:quiet(quiet);", "1", "function", "true")
		evs := rec.Take()
		var ops []string
		for _, e := range evs {
			ops = append(ops, e.Operation+":"+e.Schema.Name)
		}
		if got := strings.Join(ops, ","); got != "create:dbtest_groups,update:dbtest_groups,delete:dbtest_groups" {
			t.Fatalf("events: %s", got)
		}

		// An error in the override propagates to the caller of the DAO method.
		doLua(t, in, `function kong.db.dbtest_groups:post_crud_event() error("boom") end`)
		got := luaErr(t, in, `kong.db.dbtest_groups:insert({ consumer = { id = "`+cid+`" }, group = "x" })`)
		if !strings.Contains(got, "boom") {
			t.Fatalf("override error: %s", got)
		}
	})
}

func TestDBCascadeEvents(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		rec := &kongdbtest.Recorder{}
		db.SetEventHandler(rec)
		wantResults(t, in, `
		local c = assert(kong.db.consumers:insert({ username = "bob" }))
		assert(kong.db.keyauth_credentials:insert({ consumer = { id = c.id }, key = "k" }))
		local ok = kong.db.consumers:delete(c)
		return ok, kong.db.keyauth_credentials:select_by_key("k")
	`, "true", "nil")
		var ops []string
		for _, e := range rec.Take() {
			ops = append(ops, e.Operation+":"+e.Schema.Name)
		}
		if got := strings.Join(ops, ","); got != "create:consumers,create:keyauth_credentials,delete:consumers,delete:keyauth_credentials" {
			t.Fatalf("events: %s", got)
		}
	})
}

func TestDBErrorsObject(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local errors = kong.db.errors
		local e1 = errors:not_found({ id = "x" })
		local e2 = errors:foreign_key_violation()
		local Errors = require "kong.db.errors"
		local e3 = Errors.new("postgres"):unique_violation({ name = "n" })
		local e4 = Errors.new():invalid_options({ ttl = "bad", pagination = { page_size = "must be a number" } })
		return tostring(e1), e1.code, tostring(e2), e2.message == ngx.null, tostring(e3), Errors.codes.NOT_FOUND,
		       tostring(e4), e4.options.ttl, errors.strategy, errors.codes.REFERENCED_BY_OTHERS
	`, `[off] could not find the entity with primary key '{id="x"}'`, "6", "[off] foreign key violation", "true",
		`[postgres] UNIQUE violation detected on '{name="n"}'`, "6",
		"2 option violations (pagination.page_size: must be a number; ttl: bad)", "bad", "off", "19")
	got := luaErr(t, in, `kong.db.errors:not_found("x")`)
	if !strings.HasSuffix(got, "primary_key must be a table") {
		t.Fatal(got)
	}
}

// Workers share the DB and the post_crud_event dispatcher; each runs its
// own override, in its own state (go test -race).
func TestDBConcurrentWorkers(t *testing.T) {
	first, db := newDBState(t)
	cid := insertConsumer(t, db, "bob")
	root := first.Root
	const workers, writes = 4, 50
	ins := make([]*Instance, workers)
	for i := range ins {
		L := lua.NewState()
		t.Cleanup(L.Close)
		ins[i] = root.Open(L, i)
		OpenDB(ins[i])
		doLua(t, ins[i], `package.preload["dbtest.groups_dao"] = function()
			return { post_crud_event = function(self, op, e, old, o)
				count = (count or 0) + 1
				return self.super.post_crud_event(self, op, e, old, o)
			end }
		end`)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i, in := range ins {
		wg.Add(1)
		go func(i int, in *Instance) {
			defer wg.Done()
			_, err := runErr(in, "w.lua", fmt.Sprintf(`
				for n = 1, %d do
					assert(kong.db.dbtest_groups:insert({ consumer = { id = %q }, group = "w%d-" .. n }))
					assert(kong.db.consumers:select({ id = %q }))
				end
				assert(count == %d, tostring(count))`, writes, cid, i, cid, writes))
			errs <- err
		}(i, in)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantResults(t, first, `local rows = assert(kong.db.dbtest_groups:page(1000)) return #rows`, fmt.Sprint(workers*writes))
}

// A write from Go (the Admin API) runs a custom DAO module's
// post_crud_event in a worker lent by Root.InWorker.
func TestDBOverrideForGoWrites(t *testing.T) {
	in, db := newDBState(t)
	doLua(t, in, `package.preload["dbtest.groups_dao"] = function()
		return { post_crud_event = function(self, op, e, old, o)
			seen = (seen or "") .. op .. ":" .. e.group .. ";"
			return self.super.post_crud_event(self, op, e, old, o)
		end }
	end`)
	lent := 0
	in.Root.InWorker = func(fn func(*Instance)) bool {
		lent++
		fn(in)
		return true
	}
	in.Root.InstallDBHooks()
	rec := &kongdbtest.Recorder{}
	db.SetEventHandler(rec)
	cid := insertConsumer(t, db, "bob")
	ctx := schema.WithFuncRunner(context.Background(), builtinRunner{})
	row, err := db.DAO("dbtest_groups").Insert(ctx, map[string]any{"consumer": map[string]any{"id": cid}, "group": "admins"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DAO("dbtest_groups").Delete(ctx, map[string]any{"id": row["id"]}, nil); err != nil {
		t.Fatal(err)
	}
	wantResults(t, in, `return seen`, "create:admins;delete:admins;")
	if lent != 2 {
		t.Fatalf("lent %d times", lent)
	}
	var ops []string
	for _, e := range rec.Take() {
		ops = append(ops, e.Operation+":"+e.Schema.Name)
	}
	// consumers has no custom DAO module: no worker is borrowed for it.
	if got := strings.Join(ops, ","); got != "create:consumers,create:dbtest_groups,delete:dbtest_groups" {
		t.Fatalf("events: %s", got)
	}
}

// kong.plugins.<plugin>.strategies.<strategy>.<entity> extends
// dao.strategy, as the session plugin's session_metadatas does.
func TestDBPluginStrategyModule(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		doLua(t, in, `
			package.preload["kong.plugins.dbtest.strategies.`+db.Strategy()+`.dbtest_groups"] = function()
				local m = {}
				function m:count_rows()
					local rows = assert(self.super.page(self, 100))
					return #rows
				end
				function m:page(size) return {}, nil end
				return m
			end
			package.preload["dbtest.groups_dao"] = function()
				return { count = function(self) return self.strategy:count_rows() end }
			end`)
		cid := insertConsumer(t, db, "bob")
		wantResults(t, in, `
			local dao = kong.db.dbtest_groups
			assert(dao:insert({ consumer = { id = "`+cid+`" }, group = "a" }))
			return dao:count(), #dao.strategy:page(10), type(kong.db.keyauth_credentials.strategy.count_rows)
		`, "1", "0", "nil")
	})
}

// Any argument to any method gives a result or a Lua error, never a Go
// runtime error.
func TestDBBadArgumentsNeverPanic(t *testing.T) {
	in, db := newDBState(t)
	insertConsumer(t, db, "bob")
	vals := results(t, in, `
		local dao = kong.db.dbtest_groups
		local cyc = {} cyc.self = cyc
		local args = { "nil", 1, -1, 0.5, "x", "", true, false, ngx.null, {}, { id = 1 }, { id = "x" },
		               { id = ngx.null }, { 1, 2 }, cyc, print, coroutine.create(function() end),
		               setmetatable({}, require("cjson").array_mt), { consumer = { id = {} } } }
		args[1] = nil
		local methods = { "select", "page", "each", "insert", "update", "upsert", "delete",
		                  "select_by_cache_key", "cache_key", "truncate", "row_to_entity", "rows_to_entities",
		                  "post_crud_event", "each_for_export", "page_for_consumer", "each_for_consumer" }
		local bad = {}
		local n = 0
		for _, m in ipairs(methods) do
			for i = 1, #args + 1 do
				for j = 1, #args + 1, 3 do
					n = n + 1
					local ok, err = pcall(dao[m], dao, args[i], args[j], args[j])
					if not ok and (tostring(err):find("runtime error", 1, true)
					               or tostring(err):find("interface conversion", 1, true)
					               or tostring(err):find("goroutine", 1, true)) then
						bad[#bad + 1] = m .. ": " .. tostring(err)
					end
					if ok and type(err) == "function" then pcall(err) end
				end
			end
		end
		return n, table.concat(bad, "\n")
	`)
	if vals[1] != "" {
		t.Fatalf("Go runtime errors:\n%s", vals[1])
	}
	t.Logf("%s calls", vals[0])
}

// Set fields read as sets (Kong's Set_mt): members are keys; empty sets
// carry cjson.array_mt.
func TestDBSetFields(t *testing.T) {
	eachStrategy(t, func(t *testing.T, in *Instance, db *kongdb.DB) {
		cid := insertConsumer(t, db, "bob")
		wantResults(t, in, `
		local g = assert(kong.db.dbtest_groups:insert({ consumer = { id = "`+cid+`" }, group = "a", tags = { "x", "y", "x" } }))
		local e = assert(kong.db.dbtest_groups:insert({ consumer = { id = "`+cid+`" }, group = "b", tags = {} }))
		local sel = kong.db.dbtest_groups:select({ id = g.id })
		return #g.tags, g.tags.x, g.tags.y, g.tags.z, sel.tags.y, getmetatable(e.tags) == require("cjson").array_mt,
		       require("cjson").encode(g.tags)
	`, "2", "true", "true", "nil", "true", "true", `["x","y"]`)
	})
}
