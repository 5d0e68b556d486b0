package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// strategy is the per-schema CRUD strategy (kong/db/strategies/postgres/init.lua).
type strategy struct {
	c     *Connector
	s     *schema.Schema
	l     *tableLayout
	stmts sync.Map // statement name -> SQL text (Kong's strategy.statements)
	// sels maps a selKey to the SQL text of its select statement (as in
	// stmts): copied on write (a variant is built once), read without a
	// lock or boxing the key.
	sels   atomic.Pointer[map[selKey]string]
	selsMu sync.Mutex
}

// knownSelect is the SQL of the select statement k, if built.
func (s *strategy) knownSelect(k selKey) (string, bool) {
	if m := s.sels.Load(); m != nil {
		sql, ok := (*m)[k]
		return sql, ok
	}
	return "", false
}

// rememberSelect keeps the SQL of the select statement k.
func (s *strategy) rememberSelect(k selKey, sql string) {
	s.selsMu.Lock()
	defer s.selsMu.Unlock()
	old := s.sels.Load()
	m := make(map[selKey]string, 1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[k] = sql
	s.sels.Store(&m)
}

// selKey names a select statement (selectOne) without building its name:
// field is "" for select by primary key.
type selKey struct {
	field                   string
	skipTTL, export, global bool
}

var _ kongdb.Strategy = (*strategy)(nil)

func newStrategy(c *Connector, s *schema.Schema) (*strategy, error) {
	l, err := buildLayout(s, func(ref string) []string {
		if rs := c.lookupSchema(ref); rs != nil && len(rs.PrimaryKey) > 0 {
			return rs.PrimaryKey
		}
		return []string{"id"}
	})
	if err != nil {
		return nil, err
	}
	return &strategy{c: c, s: s, l: l}, nil
}

// statement returns the cached SQL of name, building it once.
func (s *strategy) statement(name string, build func() string) string {
	if v, ok := s.stmts.Load(name); ok {
		return v.(string)
	}
	q := build()
	s.stmts.Store(name, q)
	return q
}

// Statements lists the statements built so far, by Kong's names.
func (s *strategy) Statements() map[string]string {
	out := map[string]string{}
	s.stmts.Range(func(k, v any) bool { out[k.(string)] = v.(string); return true })
	return out
}

// params numbers placeholders and collects their arguments in order.
// With bindOnly (the statement's text is known) it only collects the
// arguments, and the predicate builders make no text.
type params struct {
	args     []any
	bindOnly bool
	buf      [4]any // args' first backing array
}

func newParams(bindOnly bool) *params {
	p := &params{bindOnly: bindOnly}
	p.args = p.buf[:0]
	return p
}

func (p *params) add(v any) string {
	p.args = append(p.args, v)
	if p.bindOnly {
		return ""
	}
	return "$" + strconv.Itoa(len(p.args))
}

// placeholder is the SQL expression binding one column value.
func placeholder(c *column, n string) string {
	if c.kind == kTimestamp {
		return "TO_TIMESTAMP(" + n + "::float8)"
	}
	return n
}

const ttlPredicate = `("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP)`

// scope decides the ws predicate: the ws_id to filter on, or "" for the
// _global statements.
func (s *strategy) scope(o *kongdb.Options) string {
	if !s.l.ws || o == nil || o.GlobalWorkspace {
		return ""
	}
	return o.Workspace
}

func opts(o *kongdb.Options) *kongdb.Options {
	if o == nil {
		return &kongdb.Options{}
	}
	return o
}

// suffix names a statement variant the way Kong does.
func (s *strategy) variant(name string, ws string, o *kongdb.Options, skipTTLAllowed bool) (string, bool, bool) {
	useTTL := s.l.ttl && !(skipTTLAllowed && o.SkipTTL)
	if s.l.ttl && skipTTLAllowed && o.SkipTTL {
		name += "_skip_ttl"
	}
	if o.Export && s.l.ttl {
		name += "_for_export"
	}
	useWs := ws != ""
	if s.l.ws && !useWs {
		name += "_global"
	}
	return name, useTTL, useWs
}

// where appends " AND <ttl> AND <ws>" predicates after key predicates.
func where(preds []string, useTTL bool, wsParam string) string {
	if useTTL {
		preds = append(preds, ttlPredicate)
	}
	if wsParam != "" {
		preds = append(preds, `("ws_id" = `+wsParam+`)`)
	}
	if len(preds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(preds, " AND ")
}

func (s *strategy) sel(o *kongdb.Options) string {
	if o.Export {
		return s.l.selExport
	}
	return s.l.sel
}

// keyArgs binds the columns of a field (or the PK) from a value map.
func (s *strategy) pkArgs(p *params, pk kongdb.Row) (string, error) {
	var ph []string
	if !p.bindOnly {
		ph = make([]string, len(s.l.pkCols))
	}
	for i, ci := range s.l.pkCols {
		c := &s.l.cols[ci]
		v, err := bindValue(c, pk[c.field.Name])
		if err != nil {
			return "", err
		}
		n := p.add(v)
		if !p.bindOnly {
			ph[i] = placeholder(c, n)
		}
	}
	if p.bindOnly {
		return "", nil
	}
	return "(" + s.l.pkList() + ") = (" + strings.Join(ph, ", ") + ")", nil
}

// fieldPred binds a unique-field lookup ("cache_key" is the composite column).
func (s *strategy) fieldPred(p *params, field string, value any) (string, error) {
	if field == "cache_key" && s.l.cacheKey {
		n := p.add(bindScalar(value))
		if p.bindOnly {
			return "", nil
		}
		return `"cache_key" = ` + n, nil
	}
	idx, ok := s.l.fieldCols(field)
	if !ok {
		return "", errors.New("unknown field " + field)
	}
	var preds []string
	for _, ci := range idx {
		c := &s.l.cols[ci]
		v, err := bindValue(c, value)
		if err != nil {
			return "", err
		}
		n := p.add(v)
		if !p.bindOnly {
			preds = append(preds, quoteIdent(c.name)+" = "+placeholder(c, n))
		}
	}
	return strings.Join(preds, " AND "), nil
}

// query runs a row-returning write statement (INSERT/UPDATE ... RETURNING)
// on the primary, under the semaphore.
func (s *strategy) query(ctx context.Context, sql string, args []any) ([]kongdb.Row, error) {
	return s.run(ctx, s.c.q(ctx), s.c, sql, args, nil)
}

// read runs a SELECT: on the read replica when one is configured.
// out, when given, receives the rows (selectOne's one-row array).
func (s *strategy) read(ctx context.Context, sql string, args []any, out []kongdb.Row) ([]kongdb.Row, error) {
	q, c := s.c.reader(ctx)
	return s.run(ctx, q, c, sql, args, out)
}

func (s *strategy) run(ctx context.Context, q querier, c *Connector, sql string, args []any, out []kongdb.Row) ([]kongdb.Row, error) {
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	tm := rows.Conn().TypeMap()
	var scratch [16]any
	vals := scratch[:0]
	for rows.Next() {
		vals, err = rawValues(rows, fds, tm, vals)
		if err != nil {
			return nil, err
		}
		out = append(out, s.toRow(vals))
	}
	return out, rows.Err()
}

// exec runs a write. Like the reads it takes no context deadline (see
// Connector.timeout): statement_timeout, keepalive and TCP_USER_TIMEOUT
// bound it.
func (s *strategy) exec(ctx context.Context, sql string, args []any) (int64, error) {
	release, err := s.c.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	if tx := s.c.txFrom(ctx); tx != nil {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return 0, err
		}
		return tag.RowsAffected(), nil
	}
	tag, err := s.c.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// toRow maps a result row (cols..., ws_id?, ttl?) into an entity; foreign
// columns are expanded to { pk = value } or Null. The raw PK values are kept
// under a hidden key for the offset token.
func (s *strategy) toRow(vals []any) kongdb.Row {
	row := make(kongdb.Row, len(s.s.Fields)+2)
	for i := range s.l.cols {
		c := &s.l.cols[i]
		v := decodeValue(vals[i])
		if c.kind == kForeign {
			cur, seen := row[c.field.Name]
			if schema.IsNull(v) {
				row[c.field.Name] = schema.Null
				continue
			}
			if seen && schema.IsNull(cur) {
				continue
			}
			m, _ := cur.(map[string]any)
			if m == nil {
				m = map[string]any{}
				row[c.field.Name] = m
			}
			m[c.fkPK] = v
			continue
		}
		if c.kind == kArray {
			if _, ok := v.([]any); !ok && !schema.IsNull(v) {
				v = []any{}
			}
		}
		row[c.field.Name] = v
	}
	n := len(s.l.cols)
	if s.l.ws {
		row["ws_id"] = decodeValue(vals[n])
		n++
	}
	if s.l.ttl {
		row["ttl"] = decodeValue(vals[n])
	}
	return row
}

// finish removes ws_id unless asked for.
func (s *strategy) finish(row kongdb.Row, o *kongdb.Options) kongdb.Row {
	if row != nil && s.l.ws && !o.ShowWsID {
		delete(row, "ws_id")
	}
	return row
}

func (s *strategy) pkValues(row kongdb.Row) []any {
	out := make([]any, 0, len(s.l.pkCols))
	for _, ci := range s.l.pkCols {
		c := &s.l.cols[ci]
		v := row[c.field.Name]
		if c.kind == kForeign {
			if m, ok := v.(map[string]any); ok {
				v = m[c.fkPK]
			}
		}
		out = append(out, v)
	}
	return out
}

// ---- reads ----

func (s *strategy) Select(ctx context.Context, pk kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	return s.selectOne(ctx, "", nil, pk, o)
}

func (s *strategy) SelectByField(ctx context.Context, field string, value any, o *kongdb.Options) (kongdb.Row, error) {
	return s.selectOne(ctx, field, value, nil, o)
}

// selectOne runs the select statement by primary key pk (field "") or by
// the unique field (its ttl/workspace variant): the row, or nil when there
// is none. Once a variant's statement is built, a call only binds its
// arguments.
func (s *strategy) selectOne(ctx context.Context, field string, value any, pk kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	ws := s.scope(o)
	k := selKey{field: field, skipTTL: s.l.ttl && o.SkipTTL, export: o.Export && s.l.ttl, global: s.l.ws && ws == ""}
	sql, known := s.knownSelect(k)
	p := newParams(known)
	var key string
	var err error
	if field == "" {
		key, err = s.pkArgs(p, pk)
	} else {
		key, err = s.fieldPred(p, field, value)
	}
	if err != nil {
		return nil, s.c.errs.DatabaseError(err.Error(), err)
	}
	wsParam := ""
	if ws != "" {
		wsParam = p.add(s.c.boxWS(ws))
	}
	if !known {
		base := "select"
		if field != "" {
			base = "select_by_" + field
		}
		name, useTTL, _ := s.variant(base, ws, o, true)
		sql = s.statement(name, func() string {
			return "SELECT " + s.sel(o) + " FROM " + s.l.table + where([]string{key}, useTTL, wsParam) + " LIMIT 1;"
		})
		s.rememberSelect(k, sql)
	}
	var one [1]kongdb.Row
	rows, err := s.read(ctx, sql, p.args, one[:0])
	if err != nil {
		return nil, s.toError(err, nil, pk)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return s.finish(rows[0], o), nil
}

func (s *strategy) Page(ctx context.Context, size int, offset string, o *kongdb.Options) ([]kongdb.Row, string, error) {
	return s.page(ctx, "", nil, size, offset, opts(o))
}

func (s *strategy) PageFor(ctx context.Context, fk string, fkPK kongdb.Row, size int, offset string, o *kongdb.Options) ([]kongdb.Row, string, error) {
	if _, ok := s.l.fieldCols(fk); !ok {
		return nil, "", s.c.errs.DatabaseError("unknown foreign key "+fk, nil)
	}
	return s.page(ctx, fk, fkPK, size, offset, opts(o))
}

func (s *strategy) page(ctx context.Context, fk string, fkPK kongdb.Row, size int, offset string, o *kongdb.Options) ([]kongdb.Row, string, error) {
	if size <= 0 {
		size = o.PageSize
	}
	if size <= 0 {
		size = 1000
	}
	ws := s.scope(o)
	base := "page"
	if fk != "" {
		base = "page_for_" + fk
	}
	tagCond := ""
	if len(o.Tags) > 0 {
		tagCond = "and"
		if o.TagsCond == "or" {
			tagCond = "or"
		}
		if fk != "" {
			base += "_by_tags_" + tagCond
		} else {
			base = "page_by_tags_" + tagCond
		}
	}
	var after []any
	if offset != "" {
		vals, reason := DecodeOffset(offset)
		if reason != "" || len(vals) != len(s.l.pkCols) {
			if reason == "" {
				reason = "bad json encoding"
			}
			return nil, "", s.c.errs.InvalidOffset(offset, reason)
		}
		after = vals
		base += "_next"
	} else {
		base += "_first"
	}
	name, useTTL, _ := s.variant(base, ws, o, false)
	p := &params{}
	var preds []string
	if fk != "" {
		idx, _ := s.l.fieldCols(fk)
		var cols, ph []string
		for _, ci := range idx {
			c := &s.l.cols[ci]
			cols = append(cols, quoteIdent(c.name))
			ph = append(ph, p.add(bindScalar(fkPK[c.fkPK])))
		}
		preds = append(preds, "("+strings.Join(cols, ", ")+") = ("+strings.Join(ph, ", ")+")")
	}
	if tagCond != "" {
		op := "@>"
		if tagCond == "or" {
			op = "&&"
		}
		preds = append(preds, `"tags" `+op+" "+p.add(o.Tags)+"::TEXT[]")
	}
	if after != nil {
		ph := make([]string, len(after))
		for i, ci := range s.l.pkCols {
			c := &s.l.cols[ci]
			v := after[i]
			if c.kind == kInteger {
				if f, ok := v.(float64); ok {
					n, err := toInt64(c.field.Name, f)
					if err != nil {
						return nil, "", s.c.errs.InvalidOffset(offset, err.Error())
					}
					v = n
				}
			}
			ph[i] = placeholder(c, p.add(bindScalar(v)))
		}
		preds = append(preds, "("+s.l.pkList()+") > ("+strings.Join(ph, ", ")+")")
	}
	wsParam := ""
	if ws != "" {
		wsParam = p.add(ws)
	}
	limit := p.add(int64(size + 1))
	sql := s.statement(name, func() string {
		return "SELECT " + s.sel(o) + " FROM " + s.l.table + where(preds, useTTL, wsParam) +
			" ORDER BY " + s.l.pkList() + " LIMIT " + limit + ";"
	})
	rows, err := s.read(ctx, sql, p.args, nil)
	if err != nil {
		return nil, "", s.toError(err, nil, nil)
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = EncodeOffset(s.pkValues(rows[size-1]))
	}
	for _, r := range rows {
		s.finish(r, o)
	}
	if rows == nil {
		rows = []kongdb.Row{}
	}
	return rows, next, nil
}

// ---- writes ----

// wsValue is the ws_id written with a new row: the option, the entity's,
// or the default workspace.
func (s *strategy) wsValue(ctx context.Context, entity kongdb.Row, o *kongdb.Options) (any, error) {
	if o.Workspace != "" {
		return o.Workspace, nil
	}
	if v, ok := entity["ws_id"].(string); ok && v != "" {
		return v, nil
	}
	id, err := s.c.defaultWorkspace(ctx)
	if err != nil || id == "" {
		return nil, err
	}
	return id, nil
}

// ttlValue computes the expiry epoch (§4.5): base field + N, else now + N.
func (s *strategy) ttlValue(entity kongdb.Row, o *kongdb.Options, baseField string) any {
	if o.TTL == nil || *o.TTL <= 0 {
		return nil
	}
	base := float64(time.Now().UnixNano()) / 1e9
	if f, ok := entity[baseField].(float64); ok {
		base = f
	}
	return base + float64(*o.TTL)
}

// insertParts binds every column for an INSERT: column list and VALUES.
func (s *strategy) insertParts(ctx context.Context, p *params, entity kongdb.Row, o *kongdb.Options, ttl any) (string, string, error) {
	cols := make([]string, 0, len(s.l.cols)+3)
	vals := make([]string, 0, len(s.l.cols)+3)
	for i := range s.l.cols {
		c := &s.l.cols[i]
		v, err := bindValue(c, entity[c.field.Name])
		if err != nil {
			return "", "", err
		}
		cols = append(cols, quoteIdent(c.name))
		vals = append(vals, placeholder(c, p.add(v)))
	}
	if s.l.cacheKey {
		cols = append(cols, `"cache_key"`)
		vals = append(vals, p.add(bindScalar(entity["cache_key"])))
	}
	if s.l.ws {
		ws, err := s.wsValue(ctx, entity, o)
		if err != nil {
			return "", "", err
		}
		cols = append(cols, `"ws_id"`)
		vals = append(vals, p.add(ws))
	}
	if s.l.ttl {
		cols = append(cols, `"ttl"`)
		vals = append(vals, "TO_TIMESTAMP("+p.add(ttl)+"::float8)")
	}
	return strings.Join(cols, ", "), strings.Join(vals, ", "), nil
}

func (s *strategy) Insert(ctx context.Context, entity kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	p := &params{}
	cols, vals, err := s.insertParts(ctx, p, entity, o, s.ttlValue(entity, o, "created_at"))
	if err != nil {
		return nil, s.c.errs.DatabaseError(err.Error(), err)
	}
	sql := s.statement("insert", func() string {
		return "INSERT INTO " + s.l.table + " (" + cols + ") VALUES (" + vals + ") RETURNING " + s.l.sel + ";"
	})
	rows, err := s.query(ctx, sql, p.args)
	if err != nil {
		return nil, s.toError(err, entity, nil)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return s.finish(rows[0], o), nil
}

// conflictSet is "c = EXCLUDED.c" for every non-PK column.
func (s *strategy) conflictSet() string {
	var sets []string
	for i := range s.l.cols {
		c := &s.l.cols[i]
		if c.pk {
			continue
		}
		q := quoteIdent(c.name)
		sets = append(sets, q+" = EXCLUDED."+q)
	}
	if s.l.cacheKey {
		sets = append(sets, `"cache_key" = EXCLUDED."cache_key"`)
	}
	if s.l.ws {
		sets = append(sets, `"ws_id" = EXCLUDED."ws_id"`)
	}
	if s.l.ttl {
		sets = append(sets, `"ttl" = EXCLUDED."ttl"`)
	}
	return strings.Join(sets, ", ")
}

func (s *strategy) upsert(ctx context.Context, name, target string, entity kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	p := &params{}
	// An upsert is not an update for ttl: created_at + N, or NULL (§4.5).
	cols, vals, err := s.insertParts(ctx, p, entity, o, s.ttlValue(entity, o, "created_at"))
	if err != nil {
		return nil, s.c.errs.DatabaseError(err.Error(), err)
	}
	sql := s.statement(name, func() string {
		set := s.conflictSet()
		action := "DO UPDATE SET " + set
		if set == "" {
			action = "DO NOTHING"
		}
		return "INSERT INTO " + s.l.table + " (" + cols + ") VALUES (" + vals + ") ON CONFLICT (" + target + ") " +
			action + " RETURNING " + s.l.sel + ";"
	})
	rows, err := s.query(ctx, sql, p.args)
	if err != nil {
		return nil, s.toError(err, entity, nil)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return s.finish(rows[0], o), nil
}

func withKey(entity kongdb.Row, key kongdb.Row) kongdb.Row {
	out := make(kongdb.Row, len(entity)+len(key))
	for k, v := range entity {
		out[k] = v
	}
	for k, v := range key {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

func (s *strategy) Upsert(ctx context.Context, pk kongdb.Row, entity kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	return s.upsert(ctx, "upsert", s.l.pkList(), withKey(entity, pk), opts(o))
}

func (s *strategy) UpsertByField(ctx context.Context, field string, value any, entity kongdb.Row, o *kongdb.Options) (kongdb.Row, error) {
	o = opts(o)
	var target string
	if field == "cache_key" && s.l.cacheKey {
		target = `"cache_key"`
	} else {
		idx, ok := s.l.fieldCols(field)
		if !ok {
			return nil, s.c.errs.DatabaseError("unknown field "+field, nil)
		}
		var cols []string
		f := s.s.Field(field)
		if s.l.ws && (f == nil || !f.UniqueAcrossWS) {
			cols = append(cols, `"ws_id"`)
		}
		for _, ci := range idx {
			cols = append(cols, quoteIdent(s.l.cols[ci].name))
		}
		target = strings.Join(cols, ", ")
	}
	return s.upsert(ctx, "upsert_by_"+field, target, withKey(entity, kongdb.Row{field: value}), o)
}
