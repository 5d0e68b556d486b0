package admin

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

// GET /schemas/...'s JSON is Kong's schema_to_jsonable: a field's
// attributes are an object, an empty table below them an array (an
// array's empty default, an empty record's fields), and the numbers JSON
// lacks are "nan", "inf" and "-inf".
func TestJSONableSchemaEmptyTablesAndNumbers(t *testing.T) {
	str := &schema.Field{Type: schema.TypeString}
	sc := &schema.Schema{Name: "x", Fields: []*schema.Field{
		{Name: "config", Type: schema.TypeRecord, Fields: []*schema.Field{
			{Name: "list", Type: schema.TypeArray, Elements: str, Default: []any{}, HasDefault: true},
			{Name: "dict", Type: schema.TypeMap, Keys: str, Values: str, Default: map[string]any{}, HasDefault: true},
			{Name: "empty", Type: schema.TypeRecord, Fields: []*schema.Field{}},
			{Name: "n", Type: schema.TypeNumber, Between: &[2]float64{math.Inf(-1), math.Inf(1)}},
		}},
	}}
	sc.Index()
	raw, err := json.Marshal(jsonableSchema(sc))
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	for _, want := range []string{`"entity_checks":[]`, `"list":{"default":[]`, `"dict":{"default":[]`,
		`"empty":{"fields":[]`, `"between":["-inf","inf"]`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in %s", want, body)
		}
	}
	if strings.Contains(body, `"default":{}`) {
		t.Errorf("an empty default as an object: %s", body)
	}
}

// Numbers in the Admin API's JSON are cjson's at Kong's precision (16
// significant digits, CJSON_MAX_PRECISION): 2^53 exact.
func TestAppendJSONNumberPrecision(t *testing.T) {
	for in, want := range map[float64]string{
		9007199254740992: "9007199254740992", 1e15: "1000000000000000", 1e16: "1e+16",
		0.1: "0.1", 0.1 + 0.2: "0.3", 1.0 / 3: "0.3333333333333333", -12.5: "-12.5", 1e-5: "1e-05",
		123456789012.345: "123456789012.345",
	} {
		if got := string(AppendJSON(nil, in)); got != want {
			t.Errorf("%v: %s, want %s", in, got, want)
		}
	}
}
