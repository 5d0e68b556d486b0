package kongdb

// The calls into the schema engine (package schema), in one place, turning
// its results into the DAO's errors.

import (
	"context"
	"errors"

	"github.com/luahost/luahost/kongdb/schema"
)

// schemaErr turns an error table into a schema violation and passes a
// failure to run a Lua function through as it is (Kong raises those).
func (d *DAO) schemaErr(errs map[string]any, err error) error {
	if err != nil {
		return err
	}
	if errs != nil {
		return d.Errors.SchemaViolation(errs)
	}
	return nil
}

// processAutoFields is Kong's schema:process_auto_fields(data, context, nulls).
func (d *DAO) processAutoFields(ctx context.Context, data Row, op schema.Context, o *Options) (Row, error) {
	ao := &schema.AutoOptions{Now: d.db.opts.Now}
	if op == schema.CtxSelect {
		if r := d.db.refs.Load(); r != nil {
			ao.ResolveReference, ao.Logger = r.fn, r.log
		}
	}
	if now := clockFrom(ctx); now != nil {
		ao.Now = now
	}
	if o != nil {
		ao.Nulls = o.Nulls
		ao.ShowWsID = o.ShowWsID
		ao.HideShorthands = o.HideShorthands
	}
	out, errs, err := d.Schema.ProcessAutoFields(ctx, data, op, ao)
	if err := d.schemaErr(errs, err); err != nil {
		return nil, err
	}
	return out, nil
}

// validatePrimaryKey is schema:validate_primary_key(pk, ignore_others); nil
// when valid.
func validatePrimaryKey(ctx context.Context, s *schema.Schema, pk Row, ignoreOthers bool) map[string]any {
	errs, err := s.ValidatePrimaryKey(ctx, pk, ignoreOthers)
	if err != nil {
		return map[string]any{"@entity": []any{err.Error()}}
	}
	return errs
}

// validateField is schema:validate_field(field, value); nil when valid.
func validateField(ctx context.Context, s *schema.Schema, f *schema.Field, v any) any {
	errs, err := s.ValidateField(ctx, f, v)
	if err != nil {
		return err.Error()
	}
	return errs
}

// transform runs the schema's transformations; a failing function is a
// TRANSFORMATION_ERROR.
func (d *DAO) transform(ctx context.Context, e, input Row, op schema.Context) (Row, error) {
	out, err := d.Schema.Transform(ctx, e, input, op)
	if err != nil {
		var te *schema.TransformError
		if errors.As(err, &te) {
			return nil, d.Errors.TransformationError(te.Error())
		}
		return nil, err
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
