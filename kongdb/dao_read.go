package kongdb

import (
	"context"
	"iter"

	"github.com/luahost/luahost/kongdb/schema"
)

// Select is dao:select(pk_or_entity, options): the entity, or nil with no
// error when there is none.
func (d *DAO) Select(ctx context.Context, pkOrEntity any, opts any) (Row, error) {
	t, err := checkPKType(pkOrEntity)
	if err != nil {
		return nil, err
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, err
	}
	pk := d.ExtractPK(t)
	if errs := validatePrimaryKey(ctx, d.Schema, pk, false); errs != nil {
		return nil, d.Errors.InvalidPrimaryKey(errs)
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return nil, err
	}
	return d.selectPK(ctx, pk, o)
}

func (d *DAO) selectPK(ctx context.Context, pk Row, o *Options) (Row, error) {
	row, err := d.strategy.Select(ctx, pk, o)
	if err != nil || row == nil {
		return nil, err
	}
	return d.rowToEntity(ctx, row, o)
}

// Page is dao:page(size, offset, options): up to size entities after
// offset and the next offset ("" on the last page). size and offset may be
// nil (default page size, first page).
func (d *DAO) Page(ctx context.Context, size any, offset any, opts any) ([]Row, string, error) {
	n, off, o, err := d.pageArgs(ctx, size, offset, opts)
	if err != nil {
		return nil, "", err
	}
	rows, next, err := d.strategy.Page(ctx, n, off, o)
	if err != nil {
		return nil, "", err
	}
	ents, err := d.rowsToEntities(ctx, rows, o)
	if err != nil {
		return nil, "", err
	}
	return ents, next, nil
}

func (d *DAO) pageArgs(ctx context.Context, size, offset, opts any) (int, string, *Options, error) {
	if size != nil && !isNumber(size) {
		return 0, "", nil, argErr("size must be a number")
	}
	off := ""
	if offset != nil {
		s, ok := offset.(string)
		if !ok {
			return 0, "", nil, argErr("offset must be a string")
		}
		off = s
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return 0, "", nil, err
	}
	n, err := d.pageSize(size, raw)
	if err != nil {
		return 0, "", nil, err
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return 0, "", nil, err
	}
	return n, off, o, nil
}

// Each is dao:each(size, options): an iterator over every entity, paging
// size at a time. A failure is yielded once as (nil, err) and ends the
// iteration. Bad arguments are returned at once.
func (d *DAO) Each(ctx context.Context, size any, opts any) (iter.Seq2[Row, error], error) {
	n, _, o, err := d.pageArgs(ctx, size, nil, opts)
	if err != nil {
		return nil, err
	}
	return d.byRow(ctx, o, func(off string) ([]Row, string, error) {
		return d.strategy.Page(ctx, n, off, o)
	}), nil
}

// EachForExport is dao:each_for_export: Each with absolute ttls.
func (d *DAO) EachForExport(ctx context.Context, size any, opts any) (iter.Seq2[Row, error], error) {
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, err
	}
	if d.Schema.TTL {
		cp := make(map[string]any, len(raw)+1)
		for k, v := range raw {
			cp[k] = v
		}
		cp["export"] = true
		raw = cp
	}
	if raw == nil {
		return d.Each(ctx, size, nil)
	}
	return d.Each(ctx, size, raw)
}

func (d *DAO) byRow(ctx context.Context, o *Options, pager func(string) ([]Row, string, error)) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		off := ""
		for {
			rows, next, err := pager(off)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range rows {
				e, err := d.rowToEntity(ctx, r, o)
				if err != nil {
					yield(nil, err)
					return
				}
				if !yield(e, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			off = next
		}
	}
}

// SelectBy is dao:select_by_<field>(value, options) for a unique field or
// the endpoint_key.
func (d *DAO) SelectBy(ctx context.Context, field string, value any, opts any) (Row, error) {
	o, err := d.uniqueArgs(ctx, "select_by_", field, value, opts)
	if err != nil {
		return nil, err
	}
	return d.selectBy(ctx, field, value, o)
}

func (d *DAO) selectBy(ctx context.Context, field string, value any, o *Options) (Row, error) {
	row, err := d.strategy.SelectByField(ctx, field, value, o)
	if err != nil || row == nil {
		return nil, err
	}
	return d.rowToEntity(ctx, row, o)
}

// uniqueArgs is validate_unique_row_method.
func (d *DAO) uniqueArgs(ctx context.Context, method, name string, value any, opts any) (*Options, error) {
	f := d.UniqueField(name)
	if f == nil {
		return nil, argErr("attempt to call method '" + method + name + "' (a nil value)")
	}
	if err := checkUniqueType(value, name, f); err != nil {
		return nil, err
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, err
	}
	if raw != nil && schema.IsNull(raw["workspace"]) && !f.UniqueAcrossWS {
		return nil, d.Errors.InvalidUniqueGlobal(name)
	}
	if errs := validateField(ctx, d.Schema, f, value); errs != nil {
		if f.Type == schema.TypeForeign {
			m, _ := errs.(map[string]any)
			return nil, d.Errors.InvalidForeignKey(m)
		}
		msg, _ := errs.(string)
		if msg == "" {
			msg = Pretty(errs)
		}
		return nil, d.Errors.InvalidUnique(name, msg)
	}
	return d.options(ctx, raw)
}

// PageFor is dao:page_for_<fk>(foreign_key, size, offset, options): the
// entities whose foreign field fk references foreignKey.
func (d *DAO) PageFor(ctx context.Context, fk string, foreignKey any, size any, offset any, opts any) ([]Row, string, error) {
	n, off, fkPK, o, err := d.pageForArgs(ctx, fk, foreignKey, size, offset, opts)
	if err != nil {
		return nil, "", err
	}
	rows, next, err := d.strategy.PageFor(ctx, fk, fkPK, n, off, o)
	if err != nil {
		return nil, "", err
	}
	ents, err := d.rowsToEntities(ctx, rows, o)
	if err != nil {
		return nil, "", err
	}
	return ents, next, nil
}

// EachFor is dao:each_for_<fk>(foreign_key, size, options).
func (d *DAO) EachFor(ctx context.Context, fk string, foreignKey any, size any, opts any) (iter.Seq2[Row, error], error) {
	n, _, fkPK, o, err := d.pageForArgs(ctx, fk, foreignKey, size, nil, opts)
	if err != nil {
		if _, isArg := err.(*ArgError); isArg {
			return nil, err
		}
		// Kong: an iterator yielding (false, err, err_t) once.
		return func(yield func(Row, error) bool) { yield(nil, err) }, nil
	}
	return d.byRow(ctx, o, func(off string) ([]Row, string, error) {
		return d.strategy.PageFor(ctx, fk, fkPK, n, off, o)
	}), nil
}

// pageForArgs is validate_pagination_method.
func (d *DAO) pageForArgs(ctx context.Context, fk string, foreignKey, size, offset, opts any) (int, string, Row, *Options, error) {
	f := d.ForeignField(fk)
	if f == nil {
		return 0, "", nil, nil, argErr("attempt to call method 'page_for_" + fk + "' (a nil value)")
	}
	fkT, ok := foreignKey.(map[string]any)
	if !ok {
		return 0, "", nil, nil, argErr("foreign_key must be a table")
	}
	if size != nil && !isNumber(size) {
		return 0, "", nil, nil, argErr("size must be a number")
	}
	off := ""
	if offset != nil {
		s, ok := offset.(string)
		if !ok {
			return 0, "", nil, nil, argErr("offset must be a string")
		}
		off = s
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return 0, "", nil, nil, err
	}
	if errs := validateField(ctx, d.Schema, f, fkT); errs != nil {
		m, ok := errs.(map[string]any)
		if !ok {
			m = map[string]any{fk: errs}
		}
		return 0, "", nil, nil, d.Errors.InvalidPrimaryKey(m)
	}
	n, err := d.pageSize(size, raw)
	if err != nil {
		return 0, "", nil, nil, err
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return 0, "", nil, nil, err
	}
	return n, off, fkT, o, nil
}

// SelectByCacheKey is dao:select_by_cache_key(key_or_entity, options). A
// table is first turned into its cache key; a single-field cache_key goes
// through select_by_<field>.
func (d *DAO) SelectByCacheKey(ctx context.Context, key any, opts any) (Row, error) {
	ck := d.Schema.CacheKey
	if len(ck) == 0 {
		return nil, argErr("entity does not have a cache_key defined")
	}
	s, ok := key.(string)
	if !ok {
		var err error
		s, err = d.CacheKey(ctx, key)
		if err != nil {
			return nil, err
		}
	}
	if len(ck) == 1 {
		return d.SelectBy(ctx, ck[0], s, opts)
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, err
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return nil, err
	}
	row, err := d.strategy.SelectByField(ctx, "cache_key", s, o)
	if err != nil || row == nil {
		return nil, err
	}
	return d.rowToEntity(ctx, row, o)
}

// RowToEntity is dao:row_to_entity(row, options): on_read transformations,
// then process_auto_fields("select"), ws_id shown only when asked.
func (d *DAO) RowToEntity(ctx context.Context, row Row, opts any) (Row, error) {
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, err
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return nil, err
	}
	return d.rowToEntity(ctx, row, o)
}

func (d *DAO) rowToEntity(ctx context.Context, row Row, o *Options) (Row, error) {
	ws, hasWS := row["ws_id"]
	if !o.NoTransform && d.Schema.HasTransformations(row) {
		t, err := d.transform(ctx, row, nil, schema.CtxSelect)
		if err != nil {
			return nil, err
		}
		row = t
	}
	e, err := d.processAutoFields(ctx, row, schema.CtxSelect, o)
	if err != nil {
		return nil, err
	}
	if o.ShowWsID && d.Schema.Workspaceable {
		if !hasWS || isEmpty(ws) {
			def, _ := d.db.DefaultWorkspace(ctx)
			ws = def
		}
		e["ws_id"] = ws
	} else {
		delete(e, "ws_id")
	}
	return e, nil
}

func (d *DAO) rowsToEntities(ctx context.Context, rows []Row, o *Options) ([]Row, error) {
	out := make([]Row, len(rows))
	for i, r := range rows {
		e, err := d.rowToEntity(ctx, r, o)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
