package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/luahost/luahost/kongdb"
)

// BenchmarkSelectByField compares a unique-field lookup through the
// strategy (statement cache, bound parameters, row mapping into the value
// model) with the same SQL on raw pgx scanning into Go variables.
func BenchmarkSelectByField(b *testing.B) {
	ctx := context.Background()
	f := setupB(b)
	for i := 0; i < 100; i++ {
		if _, err := f.keys.Insert(ctx, kongdb.Row{"id": uuidN(1000 + i), "key": fmt.Sprint("key-", i),
			"consumer": map[string]any{"id": uuidN(1)}, "created_at": float64(1700000000), "tags": []any{"t"}}, f.o); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("strategy", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			r, err := f.keys.SelectByField(ctx, "key", "key-42", f.o)
			if err != nil || r == nil {
				b.Fatal(r, err)
			}
		}
	})
	b.Run("raw_pgx", func(b *testing.B) {
		b.ReportAllocs()
		sql := `SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id",
 FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl"
 FROM "keyauth_credentials" WHERE "key" = $1 AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2) LIMIT 1;`
		pool := f.c.Pool()
		for i := 0; i < b.N; i++ {
			var id, consumer, key, ws string
			var created float64
			var ttl *float64
			var tags []string
			if err := pool.QueryRow(ctx, sql, "key-42", f.ws).Scan(&id, &created, &consumer, &key, &tags, &ws, &ttl); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func setupB(b *testing.B) *fixture {
	f := setupTB(b)
	if _, err := f.consumers.Insert(context.Background(), kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
		b.Fatal(err)
	}
	return f
}
