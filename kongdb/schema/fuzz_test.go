package schema

import (
	"context"
	"encoding/json"
	"testing"
)

// jsonToValue turns decoded JSON into the value model (null -> Null).
func jsonToValue(v any) any {
	switch x := v.(type) {
	case nil:
		return Null
	case map[string]any:
		for k, e := range x {
			x[k] = jsonToValue(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonToValue(e)
		}
	}
	return v
}

// FuzzValidate: bad input never panics, whatever its shape.
func FuzzValidate(f *testing.F) {
	f.Add(`{"name":"rate-limiting","config":{"second":5,"policy":"redis","redis":{"port":"x"}}}`)
	f.Add(`{"name":"rate-limiting","config":[],"tags":[1,null,{}],"consumer":"x"}`)
	f.Add(`{"name":["rate-limiting"],"protocols":{"a":1},"config":{"path":"//"}}`)
	f.Add(`{"name":"nope","id":null,"created_at":-1}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		in, ok := jsonToValue(v).(map[string]any)
		if !ok {
			return
		}
		p, _ := benchPlugin(t)
		ctx := context.Background()
		for _, c := range []Context{CtxInsert, CtxUpdate, CtxUpsert} {
			e, serrs, err := p.ProcessAutoFields(ctx, in, c, nil)
			if err != nil || serrs != nil {
				continue
			}
			_, _ = p.Validate(ctx, e, c != CtxUpdate)
			_ = p.MergeValues(e, in)
		}
		_, _, _ = p.ProcessAutoFields(ctx, deepCopyMap(in), CtxSelect, &AutoOptions{Nulls: true})
	})
}
