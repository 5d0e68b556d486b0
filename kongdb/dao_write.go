package kongdb

import (
	"context"
	"maps"

	"github.com/luahost/luahost/kongdb/schema"
)

// Insert is dao:insert(entity, options); posts a "create" event.
func (d *DAO) Insert(ctx context.Context, entity any, opts any) (Row, error) {
	in, err := checkEntityType(entity)
	if err != nil {
		return nil, err
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, err
	}
	if d.check != nil {
		if in, err = d.check(ctx, d, "insert", nil, in, raw); err != nil {
			return nil, err
		}
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return nil, err
	}
	e, err := d.processAutoFields(ctx, in, schema.CtxInsert, nil)
	if err != nil {
		return nil, err
	}
	if err := d.resolveForeign(ctx, e); err != nil {
		return nil, err
	}
	if err := d.schemaErr(d.Schema.ValidateInsert(ctx, e, in)); err != nil {
		return nil, err
	}
	if e, err = d.transformWrite(ctx, e, in, schema.CtxInsert, o); err != nil {
		return nil, err
	}
	d.setCacheKey(e, o)
	return d.finishWrite(ctx, "create", e, nil, o, func(ctx context.Context) (Row, error) {
		return d.strategy.Insert(ctx, e, o)
	})
}

// Update is dao:update(pk_or_entity, partial, options): read-before-write,
// merge, validate; NOT_FOUND when absent; posts an "update" event with the
// old entity.
func (d *DAO) Update(ctx context.Context, pkOrEntity any, partial any, opts any) (Row, error) {
	pk, in, raw, err := d.pkWriteArgs(ctx, "update", pkOrEntity, partial, opts)
	if err != nil {
		return nil, err
	}
	e, rbw, o, err := d.checkUpdate(ctx, "", pk, in, raw)
	if err != nil {
		return nil, err
	}
	return d.finishWrite(ctx, "update", e, rbw, o, func(ctx context.Context) (Row, error) {
		return d.strategy.Update(ctx, pk, e, o)
	})
}

// pkWriteArgs checks the arguments of update/upsert addressed by primary
// key, in Kong's order: argument types, the DAO's own check, then the
// primary key (INVALID_PRIMARY_KEY).
func (d *DAO) pkWriteArgs(ctx context.Context, op string, pkOrEntity, entity, opts any) (Row, Row, map[string]any, error) {
	t, err := checkPKType(pkOrEntity)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := checkEntityType(entity)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if d.check != nil {
		if in, err = d.check(ctx, d, op, t, in, raw); err != nil {
			return nil, nil, nil, err
		}
	}
	pk := d.ExtractPK(t)
	if errs := validatePrimaryKey(ctx, d.Schema, pk, false); errs != nil {
		return nil, nil, nil, d.Errors.InvalidPrimaryKey(errs)
	}
	return pk, in, raw, nil
}

// UpdateBy is dao:update_by_<field>(value, partial, options).
func (d *DAO) UpdateBy(ctx context.Context, field string, value any, partial any, opts any) (Row, error) {
	if _, err := d.uniqueArgs(ctx, "update_by_", field, value, opts); err != nil {
		return nil, err
	}
	in, err := checkEntityType(partial)
	if err != nil {
		return nil, err
	}
	raw, _ := opts.(map[string]any)
	e, rbw, o, err := d.checkUpdate(ctx, field, value, in, raw)
	if err != nil {
		return nil, err
	}
	return d.finishWrite(ctx, "update", e, rbw, o, func(ctx context.Context) (Row, error) {
		return d.strategy.UpdateByField(ctx, field, value, e, o)
	})
}

// checkUpdate is Kong's check_update; field "" = by primary key (key is the
// pk table), else by that unique field (key is its value).
func (d *DAO) checkUpdate(ctx context.Context, field string, key any, in Row, raw map[string]any) (Row, Row, *Options, error) {
	o, err := d.options(ctx, raw)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := d.processAutoFields(ctx, in, schema.CtxUpdate, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	var rbw Row
	so := *o
	so.HideShorthands = true
	if field == "" {
		rbw, err = d.selectPK(ctx, key.(Row), &so)
	} else {
		rbw, err = d.selectBy(ctx, field, key, &so)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if rbw == nil {
		if field == "" {
			return nil, nil, nil, d.Errors.NotFound(key.(Row))
		}
		return nil, nil, nil, d.Errors.NotFoundByField(Row{field: key})
	}
	if errs := d.Schema.ValidateImmutableFields(e, rbw); errs != nil {
		return nil, nil, nil, d.Errors.SchemaViolation(errs)
	}
	merged := d.Schema.MergeValues(e, rbw)
	if err := d.resolveForeign(ctx, merged); err != nil {
		return nil, nil, nil, err
	}
	if err := d.schemaErr(d.Schema.ValidateUpdate(ctx, merged, in, rbw)); err != nil {
		return nil, nil, nil, err
	}
	if merged, err = d.transformWrite(ctx, merged, in, schema.CtxUpdate, o); err != nil {
		return nil, nil, nil, err
	}
	d.setCacheKey(merged, o)
	return merged, rbw, o, nil
}

// Upsert is dao:upsert(pk_or_entity, entity, options): a full replace (or
// insert); posts "update" when a row existed, else "create".
func (d *DAO) Upsert(ctx context.Context, pkOrEntity any, entity any, opts any) (Row, error) {
	pk, in, raw, err := d.pkWriteArgs(ctx, "upsert", pkOrEntity, entity, opts)
	if err != nil {
		return nil, err
	}
	e, rbw, o, err := d.checkUpsert(ctx, "", pk, in, raw)
	if err != nil {
		return nil, err
	}
	return d.finishWrite(ctx, upsertOp(rbw), e, rbw, o, func(ctx context.Context) (Row, error) {
		return d.strategy.Upsert(ctx, pk, e, o)
	})
}

// UpsertBy is dao:upsert_by_<field>(value, entity, options).
func (d *DAO) UpsertBy(ctx context.Context, field string, value any, entity any, opts any) (Row, error) {
	if _, err := d.uniqueArgs(ctx, "upsert_by_", field, value, opts); err != nil {
		return nil, err
	}
	in, err := checkEntityType(entity)
	if err != nil {
		return nil, err
	}
	raw, _ := opts.(map[string]any)
	e, rbw, o, err := d.checkUpsert(ctx, field, value, in, raw)
	if err != nil {
		return nil, err
	}
	return d.finishWrite(ctx, upsertOp(rbw), e, rbw, o, func(ctx context.Context) (Row, error) {
		return d.strategy.UpsertByField(ctx, field, value, e, o)
	})
}

// finishWrite runs a write's strategy call (with its cluster invalidation,
// see writeTx) and posts op ("create", or "update" with the old entity).
// e is the entity about to be written: it must be valid UTF-8 throughout.
func (d *DAO) finishWrite(ctx context.Context, op string, e, old Row, o *Options, write func(ctx context.Context) (Row, error)) (Row, error) {
	if err := d.checkUTF8(e); err != nil {
		return nil, err
	}
	var row Row
	ctx, err := d.writeTx(ctx, o, func(ctx context.Context) ([]pendingEvent, error) {
		r, err := write(ctx)
		if err != nil {
			return nil, err
		}
		if row, err = d.rowToEntity(ctx, r, o); err != nil {
			return nil, err
		}
		return []pendingEvent{{d, op, row, old}}, nil
	})
	if err != nil {
		return nil, err
	}
	d.postCrudEvent(ctx, op, row, old, o)
	return row, nil
}

// upsertOp is the event of an upsert: "update" when a row existed.
func upsertOp(rbw Row) string {
	if rbw != nil {
		return "update"
	}
	return "create"
}

// checkUpsert is Kong's check_upsert.
func (d *DAO) checkUpsert(ctx context.Context, field string, key any, in Row, raw map[string]any) (Row, Row, *Options, error) {
	o, err := d.options(ctx, raw)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := d.processAutoFields(ctx, in, schema.CtxUpsert, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	var rbw Row
	if field == "" {
		rbw, err = d.selectPK(ctx, key.(Row), o)
	} else {
		rbw, err = d.selectBy(ctx, field, key, o)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if field != "" {
		e[field] = key
	}
	if err := d.resolveForeign(ctx, e); err != nil {
		return nil, nil, nil, err
	}
	if field == "" {
		// The strategy writes the primary key given, over the entity's
		// (postgres collapse(entity, primary_key)); validate what is stored.
		maps.Copy(e, key.(Row))
	}
	if err := d.schemaErr(d.Schema.ValidateUpsert(ctx, e, in)); err != nil {
		return nil, nil, nil, err
	}
	if field != "" {
		delete(e, field)
	}
	if e, err = d.transformWrite(ctx, e, in, schema.CtxUpsert, o); err != nil {
		return nil, nil, nil, err
	}
	if field != "" {
		e[field] = key
	}
	d.setCacheKey(e, o)
	if field != "" {
		delete(e, field)
	}
	return e, rbw, o, nil
}

// Delete is dao:delete(pk_or_entity, options): true also when nothing
// existed (no event); posts "delete" for the entity, then one per
// entity removed by an on_delete = "cascade" constraint.
func (d *DAO) Delete(ctx context.Context, pkOrEntity any, opts any) (bool, error) {
	t, err := checkPKType(pkOrEntity)
	if err != nil {
		return false, err
	}
	raw, err := checkOptionsType(opts)
	if err != nil {
		return false, err
	}
	pk := d.ExtractPK(t)
	if errs := validatePrimaryKey(ctx, d.Schema, pk, false); errs != nil {
		return false, d.Errors.InvalidPrimaryKey(errs)
	}
	selRaw := withShowWsID(raw)
	so, err := d.options(ctx, selRaw)
	if err != nil {
		return false, err
	}
	entity, err := d.selectPK(ctx, pk, so)
	if err != nil {
		return false, err
	}
	if entity == nil {
		return true, nil
	}
	o, err := d.options(ctx, raw)
	if err != nil {
		return false, err
	}
	if d.preDelete != nil {
		if err := d.preDelete(ctx, d, entity, raw); err != nil {
			return false, err
		}
	}
	cascade := d.cascadeEntities(ctx, pk, selRaw, nil)
	return d.finishDelete(ctx, entity, cascade, o, func(ctx context.Context) (bool, error) {
		return d.strategy.Delete(ctx, pk, o)
	})
}

// DeleteBy is dao:delete_by_<field>(value, options).
func (d *DAO) DeleteBy(ctx context.Context, field string, value any, opts any) (bool, error) {
	o, err := d.uniqueArgs(ctx, "delete_by_", field, value, opts)
	if err != nil {
		return false, err
	}
	raw, _ := opts.(map[string]any)
	selRaw := withShowWsID(raw)
	so := *o
	so.ShowWsID = true
	entity, err := d.selectBy(ctx, field, value, &so)
	if err != nil {
		return false, err
	}
	if entity == nil {
		return true, nil
	}
	if d.preDelete != nil {
		if err := d.preDelete(ctx, d, entity, raw); err != nil {
			return false, err
		}
	}
	cascade := d.cascadeEntities(ctx, entity, selRaw, nil)
	return d.finishDelete(ctx, entity, cascade, o, func(ctx context.Context) (bool, error) {
		return d.strategy.DeleteByField(ctx, field, value, o)
	})
}

// finishDelete runs a delete's strategy call (with the cluster
// invalidation of the entity and its cascaded children, see writeTx) and
// posts a "delete" event for each. false, nil: the row vanished between
// select and delete (Kong 3.x returns nil, no error).
func (d *DAO) finishDelete(ctx context.Context, entity Row, cascade []cascadeEntry, o *Options, write func(ctx context.Context) (bool, error)) (bool, error) {
	deleted := false
	ctx, err := d.writeTx(ctx, o, func(ctx context.Context) ([]pendingEvent, error) {
		ok, err := write(ctx)
		if err != nil || !ok {
			return nil, err
		}
		deleted = true
		evs := []pendingEvent{{d, "delete", entity, nil}}
		for _, c := range cascade {
			evs = append(evs, pendingEvent{c.dao, "delete", c.entity, nil})
		}
		return evs, nil
	})
	if err != nil || !deleted {
		return false, err
	}
	d.postCrudEvent(ctx, "delete", entity, nil, o)
	for _, c := range cascade {
		c.dao.postCrudEvent(ctx, "delete", c.entity, nil, o)
	}
	return true, nil
}

func withShowWsID(raw map[string]any) map[string]any {
	cp := make(map[string]any, len(raw)+1)
	maps.Copy(cp, raw)
	cp["show_ws_id"] = true
	return cp
}

func (d *DAO) transformWrite(ctx context.Context, e, in Row, op schema.Context, o *Options) (Row, error) {
	if o.NoTransform || !d.Schema.HasTransformations(e) {
		return e, nil
	}
	return d.transform(ctx, e, in, op)
}

// setCacheKey fills the composite cache_key column.
func (d *DAO) setCacheKey(e Row, o *Options) {
	if len(d.Schema.CacheKey) > 1 {
		e["cache_key"] = d.entityCacheKey(e, o.Workspace)
	}
}
