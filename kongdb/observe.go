package kongdb

import (
	"context"
	"time"
)

// QueryObserver receives the duration of every storage call a DAO makes:
// the connector's name ("postgres", "off"), the operation ("select",
// "page", "insert", ...) and how long it took. It runs on the caller's
// goroutine and must be quick (a histogram's Observe).
type QueryObserver func(strategy, operation string, d time.Duration)

type observerBox struct{ fn QueryObserver }

// SetQueryObserver sets the function told of every storage call (metrics:
// DB query time); nil stops it. Without one, a call costs one atomic load
// more.
func (db *DB) SetQueryObserver(fn QueryObserver) {
	if fn == nil {
		db.observer.Store(nil)
		return
	}
	db.observer.Store(&observerBox{fn})
}

// observed times the calls of a DAO's strategy for the DB's observer.
type observed struct {
	Strategy
	db *DB
}

func (o observed) begin() (QueryObserver, time.Time) {
	b := o.db.observer.Load()
	if b == nil {
		return nil, time.Time{}
	}
	return b.fn, time.Now()
}

func (o observed) end(fn QueryObserver, start time.Time, op string) {
	if fn != nil {
		fn(o.db.conn.Name(), op, time.Since(start))
	}
}

func (o observed) Insert(ctx context.Context, e Row, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "insert")
	return o.Strategy.Insert(ctx, e, opts)
}

func (o observed) Select(ctx context.Context, pk Row, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "select")
	return o.Strategy.Select(ctx, pk, opts)
}

func (o observed) SelectByField(ctx context.Context, field string, value any, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "select_by")
	return o.Strategy.SelectByField(ctx, field, value, opts)
}

func (o observed) Page(ctx context.Context, size int, offset string, opts *Options) ([]Row, string, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "page")
	return o.Strategy.Page(ctx, size, offset, opts)
}

func (o observed) PageFor(ctx context.Context, fk string, fkPK Row, size int, offset string, opts *Options) ([]Row, string, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "page_for")
	return o.Strategy.PageFor(ctx, fk, fkPK, size, offset, opts)
}

func (o observed) Update(ctx context.Context, pk Row, e Row, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "update")
	return o.Strategy.Update(ctx, pk, e, opts)
}

func (o observed) UpdateByField(ctx context.Context, field string, value any, e Row, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "update_by")
	return o.Strategy.UpdateByField(ctx, field, value, e, opts)
}

func (o observed) Upsert(ctx context.Context, pk Row, e Row, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "upsert")
	return o.Strategy.Upsert(ctx, pk, e, opts)
}

func (o observed) UpsertByField(ctx context.Context, field string, value any, e Row, opts *Options) (Row, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "upsert_by")
	return o.Strategy.UpsertByField(ctx, field, value, e, opts)
}

func (o observed) Delete(ctx context.Context, pk Row, opts *Options) (bool, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "delete")
	return o.Strategy.Delete(ctx, pk, opts)
}

func (o observed) DeleteByField(ctx context.Context, field string, value any, opts *Options) (bool, error) {
	fn, t := o.begin()
	defer o.end(fn, t, "delete_by")
	return o.Strategy.DeleteByField(ctx, field, value, opts)
}

func (o observed) Truncate(ctx context.Context) error {
	fn, t := o.begin()
	defer o.end(fn, t, "truncate")
	return o.Strategy.Truncate(ctx)
}
