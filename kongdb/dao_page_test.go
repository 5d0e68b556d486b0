package kongdb_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/luahost/luahost/kongdb"
)

func TestPage(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		c := db.DAO("consumers")
		var ids []string
		for i := 0; i < 7; i++ {
			r := must[kongdb.Row](t)(c.Insert(ctx, M{"username": fmt.Sprintf("u%d", i)}, nil))
			ids = append(ids, r["id"].(string))
		}
		sort.Strings(ids)
		rows, off, err := c.Page(ctx, 3.0, nil, nil)
		if err != nil || len(rows) != 3 || off == "" {
			t.Fatalf("page 1: %d rows, %q, %v", len(rows), off, err)
		}
		// the token: unpadded base64 of the JSON array of the last row's pk
		raw, err := base64.RawStdEncoding.DecodeString(off)
		if err != nil {
			t.Fatalf("token %q: %v", off, err)
		}
		var pk []string
		if err := json.Unmarshal(raw, &pk); err != nil {
			t.Fatalf("token json %s: %v", raw, err)
		}
		eq(t, pk, []string{ids[2]})
		var seen []string
		for _, r := range rows {
			seen = append(seen, r["id"].(string))
		}
		rows, off, _ = c.Page(ctx, 3.0, off, nil)
		for _, r := range rows {
			seen = append(seen, r["id"].(string))
		}
		rows, off2, _ := c.Page(ctx, 3.0, off, nil)
		for _, r := range rows {
			seen = append(seen, r["id"].(string))
		}
		eq(t, seen, ids) // primary-key order, no duplicates
		eq(t, off2, "")  // no token on the last page

		// exactly a full last page: no token
		rows, off, _ = c.Page(ctx, 7.0, nil, nil)
		eq(t, len(rows), 7)
		eq(t, off, "")

		// default page size, pagination option
		rows, _, _ = c.Page(ctx, nil, nil, nil)
		eq(t, len(rows), 7)
		rows, off, _ = c.Page(ctx, nil, nil, M{"pagination": M{"page_size": 2.0}})
		eq(t, len(rows), 2)
		if off == "" {
			t.Fatal("want a token")
		}

		_, _, err = c.Page(ctx, 0.0, nil, nil)
		wantErr(t, err, kongdb.InvalidSize, p+"size must be an integer between 1 and 50000")
		_, _, err = c.Page(ctx, 1.5, nil, nil)
		wantErr(t, err, kongdb.InvalidSize, p+"size must be an integer between 1 and 50000")
		_, _, err = c.Page(ctx, 11.0, nil, M{"pagination": M{"max_page_size": 10.0}})
		wantErr(t, err, kongdb.InvalidSize, p+"size must be an integer between 1 and 10")
		_, _, err = c.Page(ctx, "x", nil, nil)
		wantArgErr(t, err, "size must be a number")
		_, _, err = c.Page(ctx, nil, 5.0, nil)
		wantArgErr(t, err, "offset must be a string")
		_, _, err = c.Page(ctx, nil, "!!!", nil)
		wantErr(t, err, kongdb.InvalidOffset, p+"'!!!' is not a valid offset: bad base64 encoding")
		bad := base64.RawStdEncoding.EncodeToString([]byte("{nope"))
		_, _, err = c.Page(ctx, nil, bad, nil)
		wantErr(t, err, kongdb.InvalidOffset, p+"'"+bad+"' is not a valid offset: bad json encoding")
		_, _, err = c.Page(ctx, nil, nil, M{"pagination": M{"page_size": "x", "max_page_size": 0.0}})
		wantErr(t, err, kongdb.InvalidOptions,
			p+"2 option violations (pagination.max_page_size: must be an integer greater than 0; pagination.page_size: must be a number)")
		_, _, err = c.Page(ctx, nil, nil, M{"pagination": M{"page_size": 60000.0}})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (pagination.page_size: must be an integer between 1 and 50000)")
		_, _, err = c.Page(ctx, nil, nil, M{"pagination": true})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (pagination: must be a table)")
	})
}

func TestEach(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		c := db.DAO("consumers")
		for i := 0; i < 5; i++ {
			must[kongdb.Row](t)(c.Insert(ctx, M{"username": fmt.Sprintf("u%d", i)}, nil))
		}
		it := must[func(func(kongdb.Row, error) bool)](t)(eachSeq(c.Each(ctx, 2.0, nil)))
		n := 0
		for r, err := range it {
			if err != nil {
				t.Fatal(err)
			}
			if r["username"] == nil {
				t.Fatalf("row %v", r)
			}
			n++
		}
		eq(t, n, 5)
		_, err := c.Each(ctx, 0.0, nil)
		wantErr(t, err, kongdb.InvalidSize, prefix(db)+"size must be an integer between 1 and 50000")
	})
}

func eachSeq[S ~func(func(kongdb.Row, error) bool)](s S, err error) (func(func(kongdb.Row, error) bool), error) {
	return s, err
}

func TestTags(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		c := db.DAO("consumers")
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "a", "tags": []any{"red", "big"}}, nil))
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "b", "tags": []any{"red"}}, nil))
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "c", "tags": []any{"blue"}}, nil))
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "d"}, nil))
		names := func(opts M) []string {
			rows, _, err := c.Page(ctx, nil, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rows {
				out = append(out, r["username"].(string))
			}
			sort.Strings(out)
			return out
		}
		eq(t, names(M{"tags": []any{"red"}}), []string{"a", "b"})
		eq(t, names(M{"tags": []any{"red", "big"}, "tags_cond": "and"}), []string{"a"})
		eq(t, names(M{"tags": []any{"big", "blue"}, "tags_cond": "or"}), []string{"a", "c"})

		_, _, err := c.Page(ctx, nil, nil, M{"tags": []any{"a", "b"}})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (tags_cond: must be a either 'and' or 'or' when more than one tag is specified)")
		_, _, err = c.Page(ctx, nil, nil, M{"tags": []any{"a", "b", "c", "d", "e", "f"}, "tags_cond": "or"})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (tags: cannot query more than 5 tags)")
		_, _, err = c.Page(ctx, nil, nil, M{"tags": []any{"a,b"}})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (tags: must only contain printable ascii (except `,` and `/`) or valid utf-8)")
		_, _, err = c.Page(ctx, nil, nil, M{"tags": "red"})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (tags: invalid filter syntax)")
		_, _, err = c.Page(ctx, nil, nil, M{"tags": "red", "tags_cond": "and"})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (tags: must be a table)")
		_, _, err = db.DAO("workspaces").Page(ctx, nil, nil, M{"tags": []any{"x"}})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (tags: cannot be used with 'workspaces')")
	})
}
