package postgres_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// The strategy decodes result rows itself for the common column types; it
// must give exactly what pgx's Values() then decodeValue give, numbers to
// the bit, for every type and edge a Kong table holds.
func TestRawValuesMatchPgx(t *testing.T) {
	c := pgtest.Open(t)
	ctx := context.Background()
	exprs := []string{
		"'6e3bd0a4-9a7e-4b43-9dbb-1e7d2f0f8a11'::uuid", "NULL::uuid",
		"EXTRACT(EPOCH FROM TIMESTAMP '2024-12-05 03:04:05')", "EXTRACT(EPOCH FROM TIMESTAMP '2024-12-05 03:04:05.123456')",
		"EXTRACT(EPOCH FROM TIMESTAMP '1960-01-01 00:00:00.5')", "EXTRACT(EPOCH FROM CURRENT_TIMESTAMP)",
		"0::numeric", "-1.5::numeric", "0.0001::numeric", "123456789012345678901234567890::numeric",
		"1e30::numeric", "1e-30::numeric", "9007199254740993::numeric", "9007199254740992::numeric",
		"0.1::numeric", "-0.000000000000000000001::numeric", "12345.678900::numeric", "'NaN'::numeric",
		"'Infinity'::numeric", "'-Infinity'::numeric", "1.7976931348623157e308::float8",
		"'NaN'::float8", "-0.0::float8", "42::int8", "-7::int4", "3::int2", "true", "false",
		"'héllo'::text", "''::text", "'x'::varchar(4)", "'n'::name", "ARRAY['a','b']::text[]",
		"'{\"a\":[1,2,{\"b\":null}]}'::jsonb", "'2024-01-01'::date", "NULL::text", "'{}'::text[]",
	}
	for _, e := range exprs {
		rows, err := c.Pool().Query(ctx, "SELECT "+e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if !rows.Next() {
			t.Fatalf("%s: no row (%v)", e, rows.Err())
		}
		fast, slow, err := postgres.RowValuesBothWays(rows)
		rows.Close()
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if !same(fast[0], slow[0]) {
			t.Errorf("%s: decoded %#v, pgx gives %#v", e, fast[0], slow[0])
		}
	}
	// all in one row: the texts share a buffer and the values a slab
	rows, err := c.Pool().Query(ctx, "SELECT "+strings.Join(exprs, ", "))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row (%v)", rows.Err())
	}
	fast, slow, err := postgres.RowValuesBothWays(rows)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range exprs {
		if !same(fast[i], slow[i]) {
			t.Errorf("%s, in a row: decoded %#v, pgx gives %#v", e, fast[i], slow[i])
		}
	}
}

func same(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y))
	}
	return reflect.DeepEqual(a, b) || fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}
