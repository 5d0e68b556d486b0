package kongdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/kongdb/schema"
)

// Connector defaults for pagination (kong/db/strategies/connector.lua).
const (
	DefaultPageSize    = 1000
	DefaultMaxPageSize = 50000
	// MaxTTL is Kong's DATABASE.DAO_MAX_TTL.
	MaxTTL = 100000000
	// DeclarativeDefaultWorkspaceID is the id of the default workspace in
	// DB-less mode (Kong's constants.DECLARATIVE_DEFAULT_WORKSPACE_ID): the
	// memory strategy uses it, so cache keys match Kong DB-less.
	DeclarativeDefaultWorkspaceID = "0dc6f45b-8f8d-40d2-a504-473544ee190b"
)

// DBOptions configure a DB.
type DBOptions struct {
	PageSize    int // default page size (0 = 1000)
	MaxPageSize int // largest page (0 = 50000)
	// NoCore leaves out the core entities (workspaces, consumers, services,
	// routes, plugins, tags); the default workspace then is not managed.
	NoCore bool
	// Now is the clock of auto timestamps (created_at, updated_at); nil =
	// the wall clock. Tests set it with the memory connector's SetClock.
	Now func() time.Time
}

// DB is Kong's kong.db: one DAO per registered schema over one connector.
type DB struct {
	conn Connector
	// Errors builds errors prefixed with the connector's name, as Kong's
	// Errors.new(kong_config.database).
	Errors Errors
	opts   DBOptions

	mu      sync.RWMutex
	daos    map[string]*DAO
	plugins map[string]*schema.Schema

	// Registry holds the entity schemas (foreign references, constraints).
	Registry *schema.Registry

	events   atomic.Pointer[handlerBox]
	refs     atomic.Pointer[refResolver]
	observer atomic.Pointer[observerBox]

	wsMu      sync.Mutex
	defaultWS atomic.Pointer[string]
}

type handlerBox struct{ h EventHandler }

// New returns a DB over conn with the core entities registered (unless
// opts.NoCore).
func New(conn Connector, opts DBOptions) *DB {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	db := &DB{
		conn:     conn,
		Errors:   Errors{Strategy: conn.Name()},
		opts:     opts,
		daos:     map[string]*DAO{},
		plugins:  map[string]*schema.Schema{},
		Registry: schema.NewRegistry(),
	}
	if !opts.NoCore {
		for _, s := range CoreSchemas() {
			if _, err := db.Register(s); err != nil {
				panic(fmt.Sprintf("kongdb: core schema %s: %v", s.Name, err))
			}
		}
	}
	return db
}

// Register checks s as an entity (Kong's Entity.new, through the DB's
// schema Registry), builds its strategy and its DAO. Foreign fields must
// reference schemas registered before (or s itself); the reference is
// recorded on the referenced schema (Constraints) for cascade discovery.
// Register takes ownership of s.
func (db *DB) Register(s *schema.Schema) (*DAO, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, dup := db.daos[s.Name]; dup {
		return nil, fmt.Errorf("kongdb: entity %q is already registered", s.Name)
	}
	if err := db.Registry.NewEntity(s); err != nil {
		return nil, err
	}
	for _, f := range s.Fields {
		if f.Type == schema.TypeForeign && f.RefSchema != nil && len(f.RefSchema.PrimaryKey) > 1 {
			return nil, fmt.Errorf("primary keys containing composite foreign keys are currently not supported")
		}
	}
	st, err := db.conn.NewStrategy(s)
	if err != nil {
		return nil, err
	}
	d := newDAO(db, s, st)
	db.daos[s.Name] = d
	return d, nil
}

// DAO returns the DAO of the entity name, or nil.
func (db *DB) DAO(name string) *DAO {
	db.mu.RLock()
	d := db.daos[name]
	db.mu.RUnlock()
	return d
}

// Names lists the registered entities, sorted.
func (db *DB) Names() []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	names := make([]string, 0, len(db.daos))
	for n := range db.daos {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Strategy is Kong's kong.db.strategy: "postgres" or "off".
func (db *DB) Strategy() string { return db.conn.Name() }

// Connector returns the storage connector.
func (db *DB) Connector() Connector { return db.conn }

// refResolver is what SetReferenceResolver keeps.
type refResolver struct {
	fn  func(ctx context.Context, ref string) (string, error)
	log *slog.Logger
}

// SetReferenceResolver makes reads (select context, without nulls) replace
// vault references in referenceable fields by their values, keeping the
// references in "$refs", as Kong's schema does with kong.vault; log gets
// the warning for one that does not resolve. nil fn: references are read
// as stored.
func (db *DB) SetReferenceResolver(fn func(ctx context.Context, ref string) (string, error), log *slog.Logger) {
	if fn == nil {
		db.refs.Store(nil)
		return
	}
	db.refs.Store(&refResolver{fn, log})
}

// SetEventHandler sets where every DAO posts its CRUD events (Kong's
// db:set_events_handler); nil stops posting.
func (db *DB) SetEventHandler(h EventHandler) {
	if h == nil {
		db.events.Store(nil)
		return
	}
	db.events.Store(&handlerBox{h})
}

func (db *DB) eventHandler() EventHandler {
	if b := db.events.Load(); b != nil {
		return b.h
	}
	return nil
}

// RegisterPluginSchema registers the config schema of plugin name: plugins
// rows with that name are validated against it (the subschema of the
// plugins entity keyed by name, Kong's Entity.new_subschema). Register
// plugin schemas before the DB serves requests.
func (db *DB) RegisterPluginSchema(name string, s *schema.Schema) error {
	d := db.DAO("plugins")
	if d == nil {
		return fmt.Errorf("kongdb: no plugins entity")
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.Registry.NewSubschema(d.Schema, name, s); err != nil {
		return err
	}
	db.plugins[name] = s
	return nil
}

// PluginSchema returns the config schema registered for plugin name.
func (db *DB) PluginSchema(name string) *schema.Schema {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.plugins[name]
}

// DefaultWorkspace returns the id of the `default` workspace (Kong's
// kong.default_workspace), creating the row on first use when it is
// missing. "" when the DB has no workspaces entity.
func (db *DB) DefaultWorkspace(ctx context.Context) (string, error) {
	if p := db.defaultWS.Load(); p != nil {
		return *p, nil
	}
	ws := db.DAO("workspaces")
	if ws == nil {
		return "", nil
	}
	db.wsMu.Lock()
	defer db.wsMu.Unlock()
	if p := db.defaultWS.Load(); p != nil {
		return *p, nil
	}
	row, err := ws.SelectBy(ctx, "name", "default", nil)
	if err != nil {
		return "", err
	}
	if row == nil {
		def := Row{"name": "default"}
		if db.conn.Name() == "off" {
			// Kong DB-less: the default workspace has a fixed id.
			def["id"] = DeclarativeDefaultWorkspaceID
		}
		row, err = ws.Insert(ctx, def, map[string]any{"no_broadcast_crud_event": true})
		if err != nil {
			return "", err
		}
	}
	id, _ := row["id"].(string)
	db.defaultWS.Store(&id)
	return id, nil
}

// currentWorkspace is Kong's workspaces.get_workspace_id(): the request's
// workspace, else the default one.
func (db *DB) currentWorkspace(ctx context.Context) (string, error) {
	if ws := WorkspaceFrom(ctx); ws != "" {
		return ws, nil
	}
	return db.DefaultWorkspace(ctx)
}

// TableTruncater is a connector that empties a table that is no entity's
// (Kong's connector:truncate_table: a plugin's own tables, such as
// rate-limiting's ratelimiting_metrics).
type TableTruncater interface {
	TruncateTable(ctx context.Context, table string) error
}

// Truncate empties the table of entity name, or every table when name is
// ""; the default workspace is re-created on next use (Kong's db:truncate).
// A name that is no entity's is a table the connector empties when it can
// (TableTruncater), as Kong's db:truncate(table_name) does.
func (db *DB) Truncate(ctx context.Context, name string) error {
	var daos []*DAO
	if name == "" {
		for _, n := range db.Names() {
			daos = append(daos, db.DAO(n))
		}
	} else if d := db.DAO(name); d != nil {
		daos = append(daos, d)
	} else if t, ok := db.conn.(TableTruncater); ok {
		return t.TruncateTable(ctx, name)
	} else {
		return fmt.Errorf("kongdb: unknown entity %q", name)
	}
	for _, d := range daos {
		if err := d.Truncate(ctx); err != nil {
			return err
		}
	}
	if name == "" || name == "workspaces" {
		db.wsMu.Lock()
		db.defaultWS.Store(nil)
		db.wsMu.Unlock()
	}
	return nil
}

// SchemaResetter is a connector that drops every table of its schema
// (Kong's connector:reset).
type SchemaResetter interface {
	SchemaReset(ctx context.Context) error
}

// ErrResetUnsupported is Reset's error on a connector that is no
// SchemaResetter (the embedded store).
var ErrResetUnsupported = errors.New("kongdb: reset not implemented")

// Reset drops every table of the database (Kong's db:reset): what is
// left needs a bootstrap before it is used again.
func (db *DB) Reset(ctx context.Context) error {
	r, ok := db.conn.(SchemaResetter)
	if !ok {
		return ErrResetUnsupported
	}
	err := r.SchemaReset(ctx)
	db.wsMu.Lock()
	db.defaultWS.Store(nil)
	db.wsMu.Unlock()
	return err
}

// Close closes the connector.
func (db *DB) Close() error { return db.conn.Close() }
