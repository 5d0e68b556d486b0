package kongdb

import (
	"context"

	"github.com/luahost/luahost/kongdb/schema"
)

// Row is an entity in the value model of package schema: foreign fields as
// {id = ...} tables, Null for explicit nulls. Strategies add "ws_id" when
// asked (Options.ShowWsID) and "ttl" (remaining seconds) for ttl schemas.
type Row = map[string]any

// Options are the DAO options of KONG-REFERENCE §2.4, already validated and
// resolved by the DAO (Workspace is a ws_id, never a name).
type Options struct {
	// Workspace is the ws_id to scope to. The DAO always fills it for
	// workspaceable schemas (the option, else the request's workspace from
	// kongdb.WithWorkspace, else the default workspace): writes store it as
	// ws_id. GlobalWorkspace = true is Kong's `workspace = null`: reads
	// (select, page, select_by, delete) ignore the workspace; update and
	// update_by keep to Workspace (Kong drops a null workspace there).
	Workspace       string
	GlobalWorkspace bool
	ShowWsID        bool
	TTL             *int // seconds; 0 = no expiry; nil = not given
	Tags            []string
	TagsCond        string // "and" / "or"
	PageSize        int
	MaxPageSize     int
	Nulls           bool
	NoTransform     bool
	Export          bool
	SkipTTL         bool
	NoBroadcastCrud bool
	// HideShorthands is set by the DAO on its read-before-write select.
	HideShorthands bool
}

// Connector is a storage backend (Kong's strategies/connector.lua): it owns
// connections and hands out one Strategy per schema.
type Connector interface {
	// Name is Kong's kong.db.strategy: "postgres" or "off".
	Name() string
	// NewStrategy builds the per-schema strategy (CRUD, page, upsert).
	NewStrategy(s *schema.Schema) (Strategy, error)
	Close() error
}

// Strategy is the per-schema storage (Kong's strategies/<db>/init.lua).
// Values are already validated and processed by the DAO; the strategy
// enforces uniqueness, foreign keys (with on_delete), ttl, workspaces and
// pagination, and returns *Error values with Kong's codes.
//
// Not found: Select* return (nil, nil); Update* return a NOT_FOUND *Error;
// Delete* return (false, nil).
type Strategy interface {
	Insert(ctx context.Context, entity Row, o *Options) (Row, error)
	Select(ctx context.Context, pk Row, o *Options) (Row, error)
	// SelectByField looks up a unique field, the endpoint_key, or
	// "cache_key" (the composite cache_key column).
	SelectByField(ctx context.Context, field string, value any, o *Options) (Row, error)
	// Page returns up to size rows in primary-key order after offset (a
	// token as Kong builds it: base64 of a JSON array of PK values), and the
	// next token ("" on the last page). o.Tags filters by tags.
	Page(ctx context.Context, size int, offset string, o *Options) ([]Row, string, error)
	// PageFor pages the rows whose foreign field fk references fkPK.
	PageFor(ctx context.Context, fk string, fkPK Row, size int, offset string, o *Options) ([]Row, string, error)
	Update(ctx context.Context, pk Row, entity Row, o *Options) (Row, error)
	UpdateByField(ctx context.Context, field string, value any, entity Row, o *Options) (Row, error)
	Upsert(ctx context.Context, pk Row, entity Row, o *Options) (Row, error)
	UpsertByField(ctx context.Context, field string, value any, entity Row, o *Options) (Row, error)
	Delete(ctx context.Context, pk Row, o *Options) (bool, error)
	DeleteByField(ctx context.Context, field string, value any, o *Options) (bool, error)
	Truncate(ctx context.Context) error
}

// CrudEvent is what a DAO write posts (KONG-REFERENCE §2.8).
type CrudEvent struct {
	Operation string // "create", "update", "delete"
	Schema    *schema.Schema
	Entity    Row
	OldEntity Row // update only
	Workspace string
}

// EventHandler receives CRUD events (Kong's dao.events / "dao:crud"). The
// cache issue wires it to invalidation and to the "crud" worker events.
type EventHandler interface {
	PostCrudEvent(ctx context.Context, ev *CrudEvent) error
}
