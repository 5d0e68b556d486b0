package kongdb

import (
	"context"

	"github.com/luahost/luahost/kongdb/schema"
)

// DAO is the generic data access object of one entity (Kong's
// kong/db/dao/init.lua). Arguments whose type Kong checks with error() are
// taken as `any` in the value model, so the Lua binding can pass them as
// they come; a wrong type returns an *ArgError.
type DAO struct {
	db       *DB
	Schema   *schema.Schema
	strategy Strategy // raw, timed for the DB's QueryObserver
	raw      Strategy
	Errors   Errors

	// PageSize and MaxPageSize are the pagination defaults (Kong's
	// dao.pagination), copied from the DB options.
	PageSize, MaxPageSize int

	// PostCrudEvent is the post_crud_event hook: a custom DAO module
	// overrides it (and reaches the default through DefaultPostCrudEvent,
	// Kong's self.super.post_crud_event).
	PostCrudEvent func(ctx context.Context, op string, entity, old Row, o *Options)

	check writeCheck // the entity's custom DAO checks (plugins, targets)
	// preDelete runs before a delete of an existing entity (certificates
	// delete their SNIs).
	preDelete func(ctx context.Context, d *DAO, entity Row, raw map[string]any) error
}

func newDAO(db *DB, s *schema.Schema, st Strategy) *DAO {
	d := &DAO{
		db:          db,
		Schema:      s,
		strategy:    observed{Strategy: st, db: db},
		raw:         st,
		Errors:      db.Errors,
		PageSize:    db.opts.PageSize,
		MaxPageSize: db.opts.MaxPageSize,
	}
	d.PostCrudEvent = d.DefaultPostCrudEvent
	switch s.Name {
	case "plugins":
		d.check = checkPluginProtocols
	case "targets":
		d.check = formatTargetCheck
	case "certificates":
		d.preDelete = deleteCertificateSNIs
	}
	return d
}

// DB returns the DB the DAO belongs to.
func (d *DAO) DB() *DB { return d.db }

// Strategy returns the storage strategy under the DAO.
func (d *DAO) Strategy() Strategy { return d.raw }

// Truncate empties the table.
func (d *DAO) Truncate(ctx context.Context) error { return d.strategy.Truncate(ctx) }

// ExtractPK is schema:extract_pk_values(entity).
func (d *DAO) ExtractPK(e Row) Row {
	pk := make(Row, len(d.Schema.PrimaryKey))
	for _, k := range d.Schema.PrimaryKey {
		if v, ok := e[k]; ok {
			pk[k] = v
		}
	}
	return pk
}

// UniqueField returns the field `select_by_<name>` works on (unique or the
// endpoint_key), or nil.
func (d *DAO) UniqueField(name string) *schema.Field {
	f := d.Schema.Field(name)
	if f == nil || !(f.Unique || d.Schema.EndpointKey == name) {
		return nil
	}
	return f
}

// ForeignField returns the foreign field `page_for_<name>` works on, or nil.
func (d *DAO) ForeignField(name string) *schema.Field {
	f := d.Schema.Field(name)
	if f == nil || f.Type != schema.TypeForeign {
		return nil
	}
	return f
}

func checkPKType(v any) (Row, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, argErr("primary_key must be a table")
	}
	return m, nil
}

func checkEntityType(v any) (Row, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, argErr("entity must be a table")
	}
	return m, nil
}

func checkOptionsType(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, argErr("options must be a table when specified")
	}
	return m, nil
}

// checkUniqueType is validate_unique_type.
func checkUniqueType(v any, name string, f *schema.Field) error {
	switch f.Type {
	case schema.TypeArray, schema.TypeSet, schema.TypeMap, schema.TypeRecord, schema.TypeForeign:
		if _, ok := v.(map[string]any); !ok {
			if _, ok := v.([]any); !ok {
				return argErr(name + " must be a table")
			}
		}
	case schema.TypeString:
		if _, ok := v.(string); !ok {
			return argErr(name + " must be a string")
		}
	case schema.TypeNumber, schema.TypeInteger:
		if !isNumber(v) {
			return argErr(name + " must be a number")
		}
	case schema.TypeBoolean:
		if _, ok := v.(bool); !ok {
			return argErr(name + " must be a boolean")
		}
	}
	return nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, int, int64:
		return true
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}
