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
