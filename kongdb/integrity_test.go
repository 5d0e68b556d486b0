package kongdb_test

import (
	"math"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// probePlugin is a plugin config with one field of each kind the integrity
// checks cover.
func probePlugin() *schema.Schema {
	return &schema.Schema{Name: "probe", Fields: []*schema.Field{
		{Name: "config", Type: schema.TypeRecord, Required: true, Fields: []*schema.Field{
			{Name: "n", Type: schema.TypeNumber},
			{Name: "i", Type: schema.TypeInteger},
			{Name: "m", Type: schema.TypeMap, Keys: &schema.Field{Type: schema.TypeString}, Values: &schema.Field{Type: schema.TypeString}},
			{Name: "r", Type: schema.TypeRecord, Fields: []*schema.Field{{Name: "s", Type: schema.TypeString}}},
			{Name: "j", Type: schema.TypeJSON},
		}},
	}}
}

// Integers beyond BIGINT and ±inf fail Kong's integer check instead of
// being stored as -9223372036854775808; the edges of int64 round-trip.
func TestIntegerRange(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		routes := db.DAO("routes")
		for _, v := range []float64{1e19, math.Ldexp(1, 63), 1e308, math.Inf(1), math.Inf(-1), -1e19, math.NaN()} {
			_, err := routes.Insert(ctx, M{"paths": []any{"/"}, "regex_priority": v}, nil)
			wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (regex_priority: expected an integer)")
		}
		for _, v := range []float64{-math.Ldexp(1, 63), math.Ldexp(1, 62), 9007199254740992} {
			r := must[kongdb.Row](t)(routes.Insert(ctx, M{"paths": []any{"/"}, "regex_priority": v}, nil))
			got := must[kongdb.Row](t)(routes.Select(ctx, r, nil))
			eq(t, got["regex_priority"], v)
		}
	})
}

// NaN and ±inf are not numbers to Kong's schema users: JSON cannot carry
// them and PostgreSQL's JSONB refuses them.
func TestNumberNotFinite(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		if err := db.RegisterPluginSchema("probe", probePlugin()); err != nil {
			t.Fatal(err)
		}
		plugins := db.DAO("plugins")
		for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			_, err := plugins.Insert(ctx, M{"name": "probe", "config": M{"n": v}}, nil)
			wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (config.n: expected a number)")
		}
		for _, v := range []float64{1e19, math.Ldexp(1, 63), 1e308} {
			_, err := plugins.Insert(ctx, M{"name": "probe", "config": M{"i": v}}, nil)
			wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (config.i: expected an integer)")
		}
		r := must[kongdb.Row](t)(plugins.Insert(ctx, M{"name": "probe", "config": M{"n": 1e308}}, nil))
		got := must[kongdb.Row](t)(plugins.Select(ctx, r, nil))
		eq(t, got["config"].(map[string]any)["n"], 1e308)
	})
}

// Invalid UTF-8 anywhere in an entity is refused, naming the field, on
// every strategy: nothing is stored, and nothing is stored altered.
func TestInvalidUTF8Refused(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		if err := db.RegisterPluginSchema("probe", probePlugin()); err != nil {
			t.Fatal(err)
		}
		plugins := db.DAO("plugins")
		bad := "a\xffb"
		cases := []struct {
			config M
			path   string
		}{
			{M{"m": M{"k": bad}}, "config.m.k"},
			{M{"m": M{bad: "v"}}, "config.m"},
			{M{"r": M{"s": bad}}, "config.r.s"},
			{M{"j": M{"deep": []any{"ok", bad}}}, "config.j.deep[2]"},
		}
		for _, c := range cases {
			_, err := plugins.Insert(ctx, M{"name": "probe", "config": c.config}, nil)
			wantErr(t, err, kongdb.DatabaseError, p+`invalid byte sequence for encoding "UTF8": 0xff in '`+c.path+`'`)
		}
		_, err := db.DAO("consumers").Insert(ctx, M{"username": bad}, nil)
		wantErr(t, err, kongdb.DatabaseError, p+`invalid byte sequence for encoding "UTF8": 0xff in 'username'`)

		ok := must[kongdb.Row](t)(plugins.Insert(ctx, M{"name": "probe", "config": M{"m": M{"k": "é"}}}, nil))
		_, err = plugins.Update(ctx, ok, M{"config": M{"r": M{"s": bad}}}, nil)
		if e, _ := kongdb.AsError(err); e == nil || e.Code != kongdb.DatabaseError || !strings.Contains(e.Message, "'config.r.s'") {
			t.Fatalf("update with invalid UTF-8: %v", err)
		}
		rows, _, err := plugins.Page(ctx, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, len(rows), 1)
		eq(t, rows[0]["config"].(map[string]any)["m"], map[string]any{"k": "é"})
	})
}
