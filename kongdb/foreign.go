package kongdb

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/luahost/luahost/kongdb/schema"
)

// resolveForeign is Kong's resolve_foreign: a foreign value that is not a
// primary key of the referenced entity ({name = "svc"}) is looked up by
// its unique / endpoint_key fields and replaced with the primary key.
func (d *DAO) resolveForeign(ctx context.Context, e Row) error {
	var errs map[string]any
	for _, f := range d.Schema.Fields {
		if f.Type != schema.TypeForeign || f.RefSchema == nil {
			continue
		}
		val, ok := e[f.Name].(map[string]any)
		if !ok {
			continue
		}
		ref := f.RefSchema
		if validatePrimaryKey(ctx, ref, val, true) == nil {
			continue
		}
		refDAO := d.db.DAO(ref.Name)
		if refDAO == nil {
			continue
		}
		var resolveErrs map[string]any
		for _, uf := range ref.Fields {
			if !(uf.Unique || ref.EndpointKey == uf.Name) {
				continue
			}
			uv := val[uf.Name]
			if isEmpty(uv) || validateField(ctx, ref, uf, uv) != nil {
				continue
			}
			o, err := refDAO.options(ctx, nil)
			if err != nil {
				return err
			}
			fe, err := refDAO.selectBy(ctx, uf.Name, uv, o)
			if err != nil {
				return err
			}
			if fe != nil {
				e[f.Name] = refDAO.ExtractPK(fe)
				break
			}
			if resolveErrs == nil {
				resolveErrs = map[string]any{}
			}
			resolveErrs[uf.Name] = fmt.Sprintf("the foreign key cannot be resolved with '%s' for an existing '%s' entity",
				Pretty(map[string]any{uf.Name: uv}), ref.Name)
		}
		if resolveErrs != nil {
			if errs == nil {
				errs = map[string]any{}
			}
			errs[f.Name] = resolveErrs
		}
	}
	if errs != nil {
		return d.Errors.ForeignKeysUnresolved(errs)
	}
	return nil
}

type cascadeEntry struct {
	dao    *DAO
	entity Row
}

// cascadeEntities is find_cascade_delete_entities: every entity that an
// on_delete = "cascade" constraint will remove with e, recursively (3.x),
// for their delete events.
func (d *DAO) cascadeEntities(ctx context.Context, e Row, raw map[string]any, entries []cascadeEntry) []cascadeEntry {
	pk := d.ExtractPK(e)
	for _, c := range d.Schema.Constraints {
		if c.OnDelete != "cascade" {
			continue
		}
		child := d.db.DAO(c.Schema.Name)
		if child == nil {
			continue
		}
		it, err := child.EachFor(ctx, c.FieldName, pk, nil, raw)
		if err != nil {
			slog.Error("[db] failed to traverse entities for cascade-delete", "err", err)
			continue
		}
		for row, err := range it {
			if err != nil {
				slog.Error("[db] failed to traverse entities for cascade-delete", "err", err)
				break
			}
			entries = append(entries, cascadeEntry{dao: child, entity: row})
			entries = child.cascadeEntities(ctx, row, raw, entries)
		}
	}
	return entries
}
