package postgres

import (
	"context"
	"strings"

	"github.com/luahost/luahost/kongdb"
)

// updateSQL builds the SET list for the columns present in entity; absent
// ones keep their value ("col" = "col", as Kong does for nil attributes).
// The statement is cached per set of present columns.
func (s *strategy) updateParts(p *params, entity kongdb.Row, o *kongdb.Options) (string, string, error) {
	var key strings.Builder
	var sets []string
	for i := range s.l.cols {
		c := &s.l.cols[i]
		if c.pk {
			continue
		}
		q := quoteIdent(c.name)
		v, present := entity[c.field.Name]
		if !present {
			key.WriteByte('0')
			sets = append(sets, q+" = "+q)
			continue
		}
		b, err := bindValue(c, v)
		if err != nil {
			return "", "", err
		}
		key.WriteByte('1')
		sets = append(sets, q+" = "+placeholder(c, p.add(b)))
	}
	if s.l.cacheKey {
		if v, ok := entity["cache_key"]; ok {
			key.WriteByte('1')
			sets = append(sets, `"cache_key" = `+p.add(bindScalar(v)))
		} else {
			key.WriteByte('0')
		}
	}
	if s.l.ttl && o.TTL != nil {
		key.WriteByte('t')
		var v any
		if *o.TTL > 0 {
			base := "updated_at"
			if !s.l.updatedAt {
				base = ""
			}
			v = s.ttlValue(entity, o, base)
		}
		sets = append(sets, `"ttl" = TO_TIMESTAMP(`+p.add(v)+"::float8)")
	}
	return strings.Join(sets, ", "), key.String(), nil
}

func (s *strategy) update(ctx context.Context, name string, keyPred func(*params) (string, error), entity kongdb.Row, o *kongdb.Options, notFound func() error) (kongdb.Row, error) {
	ws := s.scope(o)
	name, useTTL, _ := s.variant(name, ws, o, false)
	p := &params{}
	set, shape, err := s.updateParts(p, entity, o)
	if err != nil {
		return nil, s.c.errs.DatabaseError(err.Error(), err)
	}
	pred, err := keyPred(p)
	if err != nil {
		return nil, s.c.errs.DatabaseError(err.Error(), err)
	}
	wsParam := ""
	if ws != "" {
		wsParam = p.add(ws)
	}
	if set == "" {
		// Nothing but the key: re-read the row.
		set = quoteIdent(s.l.cols[s.l.pkCols[0]].name) + " = " + quoteIdent(s.l.cols[s.l.pkCols[0]].name)
	}
	sql := s.statement(name+"#"+shape, func() string {
		return "UPDATE " + s.l.table + " SET " + set + where([]string{pred}, useTTL, wsParam) + " RETURNING " + s.l.sel + ";"
	})
	rows, err := s.query(ctx, sql, p.args)
	if err != nil {
		return nil, s.toError(err, entity, nil)
	}
	if len(rows) == 0 {
		return nil, notFound()
	}
	return s.finish(rows[0], o), nil
}

func (s *strategy) Update(ctx context.Context, pk kongdb.Row, entity kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	return s.update(ctx, "update", func(p *params) (string, error) { return s.pkArgs(p, pk) }, entity, o,
		func() error { return s.c.errs.NotFound(pk) })
}

func (s *strategy) UpdateByField(ctx context.Context, field string, value any, entity kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	return s.update(ctx, "update_by_"+field, func(p *params) (string, error) { return s.fieldPred(p, field, value) }, entity, o,
		func() error { return s.c.errs.NotFoundByField(map[string]any{field: value}) })
}

func (s *strategy) delete(ctx context.Context, name string, keyPred func(*params) (string, error), o *kongdb.Options, pk kongdb.Row) (bool, error) {
	ws := s.scope(o)
	name, useTTL, _ := s.variant(name, ws, o, true)
	p := &params{}
	pred, err := keyPred(p)
	if err != nil {
		return false, s.c.errs.DatabaseError(err.Error(), err)
	}
	wsParam := ""
	if ws != "" {
		wsParam = p.add(ws)
	}
	sql := s.statement(name, func() string {
		return "DELETE FROM " + s.l.table + where([]string{pred}, useTTL, wsParam) + ";"
	})
	// The DB's ON DELETE CASCADE removes children in the same statement,
	// hence the same transaction.
	n, err := s.exec(ctx, sql, p.args)
	if err != nil {
		return false, s.toError(err, nil, pk)
	}
	return n > 0, nil
}

func (s *strategy) Delete(ctx context.Context, pk kongdb.Row, o *kongdb.Options) (bool, error) {
	return s.delete(ctx, "delete", func(p *params) (string, error) { return s.pkArgs(p, pk) }, opts(o), pk)
}

func (s *strategy) DeleteByField(ctx context.Context, field string, value any, o *kongdb.Options) (bool, error) {
	return s.delete(ctx, "delete_by_"+field, func(p *params) (string, error) { return s.fieldPred(p, field, value) }, opts(o), nil)
}

// Truncate is TRUNCATE "t" RESTART IDENTITY CASCADE.
func (s *strategy) Truncate(ctx context.Context) error {
	if _, err := s.exec(ctx, "TRUNCATE "+s.l.table+" RESTART IDENTITY CASCADE;", nil); err != nil {
		return s.toError(err, nil, nil)
	}
	s.c.forgetDefaultWorkspace()
	return nil
}
