package kongdb

// The calls into the schema engine (package schema), in one place. Until the
// engine grows a function, the minimal fallback here stands in for it.

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb/schema"
)

// processAutoFields is Kong's schema:process_auto_fields(data, context, nulls).
// A non-nil error table is a schema violation.
func processAutoFields(ctx context.Context, s *schema.Schema, data Row, op string, nulls bool) (Row, map[string]any) {
	out := make(Row, len(data)+4)
	for k, v := range data {
		out[k] = v
	}
	now := float64(time.Now().Unix())
	switch op {
	case "insert", "upsert":
		for _, f := range s.Fields {
			v, ok := out[f.Name]
			if f.Auto && (!ok || v == nil) {
				switch {
				case f.Type == schema.TypeString && f.UUID:
					out[f.Name] = uuid.NewString()
				case f.Timestamp && (f.Name == "created_at" || f.Name == "updated_at"):
					out[f.Name] = now
				}
				continue
			}
			if !ok {
				if f.HasDefault {
					out[f.Name] = deepCopy(f.Default)
				} else if !f.Required {
					out[f.Name] = schema.Null
				}
			}
		}
	case "update":
		if f := s.Field("updated_at"); f != nil && f.Auto && f.Timestamp {
			out["updated_at"] = now
		}
	case "select":
		for k, v := range out {
			if k == "ttl" || k == "ws_id" {
				continue
			}
			if s.Field(k) == nil {
				delete(out, k)
			} else if schema.IsNull(v) && !nulls {
				delete(out, k)
			}
		}
	}
	return out, nil
}

func validateInsert(ctx context.Context, s *schema.Schema, e Row) map[string]any { return nil }

func validateUpsert(ctx context.Context, s *schema.Schema, e Row) map[string]any { return nil }

func validateUpdate(ctx context.Context, s *schema.Schema, merged, partial, rbw Row) map[string]any {
	return nil
}

// validatePrimaryKey is schema:validate_primary_key(pk, ignore_others).
func validatePrimaryKey(s *schema.Schema, pk Row, ignoreOthers bool) map[string]any {
	errs := map[string]any{}
	for _, name := range s.PrimaryKey {
		v, ok := pk[name]
		if !ok || v == nil || schema.IsNull(v) {
			errs[name] = "missing primary key"
		}
	}
	if !ignoreOthers {
		for k := range pk {
			if !contains(s.PrimaryKey, k) {
				errs[k] = "unknown field"
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validateField is schema:validate_field(field, value).
func validateField(s *schema.Schema, f *schema.Field, v any) any {
	if f.Type == schema.TypeForeign {
		m, ok := v.(map[string]any)
		if !ok {
			return "expected a record"
		}
		if f.RefSchema != nil {
			if errs := validatePrimaryKey(f.RefSchema, m, false); errs != nil {
				return errs
			}
		}
	}
	return nil
}

func validateImmutableFields(s *schema.Schema, input, entity Row) map[string]any { return nil }

func mergeValues(s *schema.Schema, partial, rbw Row) Row {
	out := deepCopy(rbw).(map[string]any)
	for k, v := range partial {
		out[k] = v
	}
	return out
}

func transform(ctx context.Context, s *schema.Schema, e, input Row, op string) (Row, error) {
	return e, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
