package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

type txKey struct{ c *Connector }

// Tx runs fn in one transaction: every strategy call and Query made with
// the ctx given to fn joins it (an entity write and its cluster_events row
// commit together, so NOTIFY and the row are never split, unlike
// Kong/kong#8176). fn's error, or a panic, rolls back. A nested Tx joins
// the outer one.
func (c *Connector) Tx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if c.txFrom(ctx) != nil {
		return fn(ctx)
	}
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return dbError(err)
	}
	defer func() {
		if r := recover(); r != nil {
			_ = tx.Rollback(context.Background())
			panic(r)
		}
		if err != nil {
			_ = tx.Rollback(context.Background())
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{c}, tx)); err != nil {
		return err
	}
	if cerr := tx.Commit(ctx); cerr != nil {
		return dbError(cerr)
	}
	return nil
}

// TxOf returns the transaction of this connector that ctx carries, or nil.
func (c *Connector) TxOf(ctx context.Context) pgx.Tx { return c.txFrom(ctx) }

// InTx reports whether ctx carries a transaction of this connector.
func (c *Connector) InTx(ctx context.Context) bool { return c.txFrom(ctx) != nil }

func (c *Connector) txFrom(ctx context.Context) pgx.Tx {
	tx, _ := ctx.Value(txKey{c}).(pgx.Tx)
	return tx
}

// querier is what a pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (c *Connector) q(ctx context.Context) querier {
	if tx := c.txFrom(ctx); tx != nil {
		return tx
	}
	return c.pool
}

type primaryKey struct{}

// WithPrimary makes reads under ctx use the primary even when a read
// replica is configured (Kong reads from the primary for Admin API
// requests, which must see their own writes).
func WithPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

// reader is the connection source for a strategy read: the transaction,
// else the replica, else the pool.
func (c *Connector) reader(ctx context.Context) (querier, *Connector) {
	if tx := c.txFrom(ctx); tx != nil {
		return tx, c
	}
	if c.ro != nil {
		if p, _ := ctx.Value(primaryKey{}).(bool); !p {
			return c.ro.pool, c.ro
		}
	}
	return c.pool, c
}
