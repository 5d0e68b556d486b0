package kongdb_test

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
)

// TestParityWithPostgres runs one random sequence of DAO calls on memory
// and on postgres and requires the same outcome from each call: the same
// error text (after the strategy prefix) or the same entity (timestamps
// aside), and the same pages.
func TestParityWithPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	mem := kongdb.New(memory.New(), kongdb.DBOptions{})
	pg := kongdb.New(migrationstest.Connector(t), kongdb.DBOptions{})
	dbs := []*kongdb.DB{mem, pg}
	for _, db := range dbs {
		must[*kongdb.DAO](t)(db.Register(keyauth()))
		must[*kongdb.DAO](t)(db.Register(acls()))
	}
	rng := rand.New(rand.NewSource(7))
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(i))).String()
	}
	pick := func(xs []string) string { return xs[rng.Intn(len(xs))] }
	names := []string{"ann", "bob", "cat", "dan"}
	keys := []string{"k1", "k2", "k3", "k4", "k5"}
	for step := 0; step < 300; step++ {
		var call func(db *kongdb.DB) (any, error)
		var desc string
		switch rng.Intn(16) {
		case 0, 1:
			id, name := pick(ids), pick(names)
			desc = "insert consumer " + id + " " + name
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("consumers").Insert(ctx, M{"id": id, "username": name}, nil)
			}
		case 2:
			id, name := pick(ids), pick(names)
			desc = "update consumer " + id + " " + name
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("consumers").Update(ctx, M{"id": id}, M{"username": name}, nil)
			}
		case 3:
			id, name := pick(ids), pick(names)
			desc = "upsert consumer " + id + " " + name
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("consumers").Upsert(ctx, M{"id": id}, M{"username": name, "custom_id": name}, nil)
			}
		case 4:
			id := pick(ids)
			desc = "delete consumer " + id
			call = func(db *kongdb.DB) (any, error) { return db.DAO("consumers").Delete(ctx, M{"id": id}, nil) }
		case 5, 6:
			id, cid, key := pick(ids), pick(ids), pick(keys)
			desc = "insert credential " + id + " " + key + " for " + cid
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("keyauth_credentials").Insert(ctx, M{"id": id, "key": key, "consumer": M{"id": cid}}, nil)
			}
		case 7:
			key := pick(keys)
			desc = "delete_by key " + key
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("keyauth_credentials").DeleteBy(ctx, "key", key, nil)
			}
		case 9:
			id, cid, group := pick(ids), pick(ids), pick(names)
			desc = "insert acl " + id + " " + group + " for " + cid
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("acls").Insert(ctx, M{"id": id, "consumer": M{"id": cid}, "group": group, "tags": []any{group}}, nil)
			}
		case 10:
			cid, group := pick(ids), pick(names)
			desc = "select_by_cache_key acl " + group + " for " + cid
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("acls").SelectByCacheKey(ctx, M{"consumer": M{"id": cid}, "group": group}, nil)
			}
		case 11:
			cid := pick(ids)
			desc = "page_for_consumer acls " + cid
			call = func(db *kongdb.DB) (any, error) {
				rows, _, err := db.DAO("acls").PageFor(ctx, "consumer", M{"id": cid}, 100.0, nil, nil)
				var groups []string
				for _, r := range rows {
					groups = append(groups, r["group"].(string))
				}
				sort.Strings(groups)
				return strings.Join(groups, ","), err
			}
		case 12:
			name, key := pick(names), pick(keys)
			desc = "update_by username " + name + " custom_id " + key
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("consumers").UpdateBy(ctx, "username", name, M{"custom_id": key}, nil)
			}
		case 13:
			id, key, cid := pick(ids), pick(keys), pick(ids)
			desc = "upsert_by key " + key + " for " + cid + " id " + id
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("keyauth_credentials").UpsertBy(ctx, "key", key, M{"id": id, "consumer": M{"id": cid}}, nil)
			}
		case 14:
			a, b, cond := pick(names), pick(names), pick([]string{"and", "or"})
			desc = "page acls tags " + a + " " + cond + " " + b
			call = func(db *kongdb.DB) (any, error) {
				rows, off, err := db.DAO("acls").Page(ctx, 2.0, nil, M{"tags": []any{a, b}, "tags_cond": cond})
				var out []string
				for _, r := range rows {
					out = append(out, stripTimes(r))
				}
				return strings.Join(out, ",") + " next=" + fmt.Sprint(off != ""), err
			}
		case 15:
			id := pick(ids)
			desc = "delete acl " + id
			call = func(db *kongdb.DB) (any, error) { return db.DAO("acls").Delete(ctx, M{"id": id}, nil) }
		case 8:
			name := pick(names)
			desc = "select_by username " + name
			call = func(db *kongdb.DB) (any, error) {
				return db.DAO("consumers").SelectBy(ctx, "username", name, nil)
			}
		}
		var outs []string
		for _, db := range dbs {
			v, err := call(db)
			outs = append(outs, outcome(db, v, err))
		}
		if outs[0] != outs[1] {
			t.Fatalf("step %d, %s:\n memory:   %s\n postgres: %s", step, desc, outs[0], outs[1])
		}
		if step%25 == 0 {
			var pages []string
			for _, db := range dbs {
				pages = append(pages, pageAll(t, db, "keyauth_credentials")+" | "+pageAll(t, db, "consumers")+
					" | "+pageAll(t, db, "acls"))
			}
			if pages[0] != pages[1] {
				t.Fatalf("step %d: tables differ:\n memory:   %s\n postgres: %s", step, pages[0], pages[1])
			}
		}
	}
}

func outcome(db *kongdb.DB, v any, err error) string {
	if err != nil {
		return "error " + strings.TrimPrefix(err.Error(), prefix(db))
	}
	if r, ok := v.(kongdb.Row); ok {
		return stripTimes(r)
	}
	return fmt.Sprint(v)
}

func stripTimes(r kongdb.Row) string {
	if r == nil {
		return "nil"
	}
	cp := kongdb.DeepCopyRow(r)
	delete(cp, "created_at")
	delete(cp, "updated_at")
	return kongdb.Pretty(cp)
}

func pageAll(t *testing.T, db *kongdb.DB, name string) string {
	var out []string
	var off any
	for {
		rows, next, err := db.DAO(name).Page(ctx, 2.0, off, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, stripTimes(r))
		}
		if next == "" {
			return strings.Join(out, ",")
		}
		off = next
	}
}
