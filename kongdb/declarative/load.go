package declarative

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// WriteError is a write that failed while loading a checked configuration
// (a plugin's DAO check, a unique value already stored, a database error):
// the entity, where it is in the file, and the DAO's error.
type WriteError struct {
	Entry *Entry
	Err   error
}

func (e *WriteError) Error() string {
	where := e.Entry.Path
	if e.Entry.Line > 0 {
		where += fmt.Sprintf(" (line %d)", e.Entry.Line)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Load reads a declarative file from r and makes db hold exactly its
// entities (Replace). Nothing is written when the file has errors.
func Load(ctx context.Context, db *kongdb.DB, r io.Reader, filename string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(ctx, db, data, filename, ParseOptions{})
	if err != nil {
		return nil, err
	}
	if err := cfg.Replace(ctx, db); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Import writes every entity of the configuration into db, upserting by
// primary key (Kong's load_into_db, behind `kong config db_import`); what
// the file does not name is left alone. It is all or nothing: one
// transaction on PostgreSQL, the previous contents written back on the
// memory store.
func (c *Config) Import(ctx context.Context, db *kongdb.DB) error {
	if tr, ok := db.Connector().(kongdb.TxRunner); ok {
		return tr.Tx(ctx, func(ctx context.Context) error { return c.upsertAll(ctx, db) })
	}
	return isolated(ctx, db, func(ctx context.Context) error {
		old, err := snapshot(ctx, db)
		if err != nil {
			return err
		}
		if err := c.upsertAll(ctx, db); err != nil {
			return restore(ctx, db, old, err)
		}
		return nil
	})
}

// isolated runs fn so that readers see its writes all at once when the
// connector can (the memory store: kongdb.Isolator), else runs it.
func isolated(ctx context.Context, db *kongdb.DB, fn func(ctx context.Context) error) error {
	if iso, ok := db.Connector().(kongdb.Isolator); ok {
		return iso.Isolated(ctx, fn)
	}
	return fn(ctx)
}

// restore writes a snapshot back after err.
func restore(ctx context.Context, db *kongdb.DB, old *Config, err error) error {
	if rerr := old.replace(ctx, db); rerr != nil {
		return fmt.Errorf("%w (and restoring the previous configuration failed: %v)", err, rerr)
	}
	return err
}

func (c *Config) upsertAll(ctx context.Context, db *kongdb.DB) error {
	opts := map[string]any{"transform": c.Transform}
	now := float64(time.Now().Unix())
	for _, e := range c.Entries {
		d := db.DAO(e.Entity)
		o := opts
		if e.TTL > 0 {
			if e.TTL <= now {
				continue // expired since it was exported
			}
			// Kong counts a ttl from created_at when the entity has one:
			// counting from the created_at of the file keeps the expiry
			// exactly the exported one
			left := math.Ceil(e.TTL - now)
			if created, ok := e.Row["created_at"].(float64); ok && d.Schema.Field("created_at") != nil {
				left = math.Ceil(e.TTL - created)
			}
			o = map[string]any{"transform": c.Transform, "ttl": left}
		}
		wctx := ctx
		if at, ok := timestamp(e.Row["updated_at"]); ok {
			wctx = kongdb.WithClock(ctx, func() time.Time { return at })
		}
		if _, err := d.Upsert(wctx, d.ExtractPK(e.Row), e.Row, o); err != nil {
			return &WriteError{Entry: e, Err: err}
		}
	}
	return nil
}

func timestamp(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))), true
}

// Replace makes db hold exactly the configuration's entities, as Kong
// DB-less reloads its whole configuration (the declarative_config file at
// start, POST /config at run time): stored entities the configuration
// does not have are deleted, the others upserted, each write posting its
// CRUD event so caches and the router follow. Entities whose schema says
// db_export = false (runtime data, not configuration) and workspaces are
// kept. Should a write fail, the previous contents are written back. On
// the memory store readers see the old configuration until the new one is
// whole, then the new one (kongdb.Isolator); the CRUD events are posted
// as the writes go, so a cache reloading an entity meanwhile reads the
// old one: purge the caches after a Replace, as Kong does after a reload.
func (c *Config) Replace(ctx context.Context, db *kongdb.DB) error {
	return isolated(ctx, db, func(ctx context.Context) error {
		old, err := snapshot(ctx, db)
		if err != nil {
			return err
		}
		if err := c.replace(ctx, db); err != nil {
			return restore(ctx, db, old, err)
		}
		return nil
	})
}

func (c *Config) replace(ctx context.Context, db *kongdb.DB) error {
	keep := map[string]map[string]bool{}
	for _, e := range c.Entries {
		if keep[e.Entity] == nil {
			keep[e.Entity] = map[string]bool{}
		}
		keep[e.Entity][pkString(db.DAO(e.Entity).Schema, e.Row)] = true
	}
	names := replaceable(db)
	for i := len(names) - 1; i >= 0; i-- {
		d := db.DAO(names[i])
		rows, err := allRows(ctx, d)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if keep[d.Schema.Name][pkString(d.Schema, row)] {
				continue
			}
			if _, err := d.Delete(ctx, d.ExtractPK(row), nil); err != nil {
				return fmt.Errorf("deleting %s %s: %w", d.Schema.Name, pkString(d.Schema, row), err)
			}
		}
	}
	return c.upsertAll(ctx, db)
}

// replaceable lists the entities a whole configuration replaces, in
// registry (topological) order.
func replaceable(db *kongdb.DB) []string {
	var out []string
	for _, name := range db.Registry.Names() {
		d := db.DAO(name)
		if d == nil || name == "workspaces" || !d.Schema.DBExport {
			continue
		}
		out = append(out, name)
	}
	return out
}

// snapshot is the db's current configuration, to write back should a
// replace fail.
func snapshot(ctx context.Context, db *kongdb.DB) (*Config, error) {
	c := &Config{FormatVersion: "3.0", Transform: false}
	for _, name := range replaceable(db) {
		d := db.DAO(name)
		rows, err := allRows(ctx, d)
		if err != nil {
			return nil, err
		}
		for i, row := range rows {
			e := &Entry{Entity: name, Path: fmt.Sprintf("%s[%d]", name, i+1), Row: row}
			if d.Schema.TTL {
				if ttl, ok := row["ttl"].(float64); ok {
					e.TTL = ttl
				}
				delete(e.Row, "ttl")
			}
			c.Entries = append(c.Entries, e)
		}
	}
	return c, nil
}

// allRows reads every row of d, every workspace, nulls kept, ttl absolute
// (Kong's each_for_export with GLOBAL_QUERY_OPTS).
func allRows(ctx context.Context, d *kongdb.DAO) ([]map[string]any, error) {
	it, err := d.EachForExport(ctx, 1000, map[string]any{"nulls": true, "workspace": schema.Null})
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for row, err := range it {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}
