package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// logger is Config.Logger, or slog's default.
func (c *Connector) logger() *slog.Logger {
	if c.cfg.Logger != nil {
		return c.cfg.Logger
	}
	return slog.Default()
}

type ttlTable struct{ table, column string }

// cleanupLoop deletes expired rows every interval (Kong's worker-0 timer,
// _debug_pg_ttl_cleanup_interval).
func (c *Connector) cleanupLoop(every time.Duration) {
	defer close(c.cleanDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stopClean:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			if _, err := c.CleanupExpired(ctx); err != nil {
				c.logger().Error("[postgres] failed to clean up expired rows", "err", err)
			}
			cancel()
		}
	}
}

// CleanupExpired deletes up to 50000 expired rows per TTL table (and
// cluster_events by expire_at), skipping locked rows, and returns how many
// rows went. Missing tables are ignored.
func (c *Connector) CleanupExpired(ctx context.Context) (int64, error) {
	c.mu.Lock()
	tables := append([]ttlTable{{table: "cluster_events", column: "expire_at"},
		{table: "clustering_rpc_requests", column: "ttl"}}, c.ttlTables...)
	c.mu.Unlock()
	var total int64
	var firstErr error
	for _, t := range tables {
		tq, cq := quoteIdent(t.table), quoteIdent(t.column)
		sql := "WITH rows AS (SELECT ctid FROM " + tq + " WHERE " + cq + " < CURRENT_TIMESTAMP ORDER BY " + cq +
			" LIMIT 50000 FOR UPDATE SKIP LOCKED) DELETE FROM " + tq + " WHERE ctid IN (TABLE rows)"
		var exists bool
		if err := c.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", quoteIdent(t.table)).Scan(&exists); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", t.table, dbError(err))
			}
			continue
		}
		if !exists {
			continue
		}
		res, err := c.pool.Exec(ctx, sql)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", t.table, dbError(err))
			}
			continue
		}
		total += res.RowsAffected()
	}
	return total, firstErr
}
