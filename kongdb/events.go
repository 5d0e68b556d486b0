package kongdb

import (
	"context"
	"log/slog"
)

// DefaultPostCrudEvent is Kong's DAO:post_crud_event: unless
// no_broadcast_crud_event, posts op with null-stripped deep copies of the
// entities to the DB's EventHandler. A handler error is logged, as Kong
// logs "[db] failed to propagate CRUD operation".
func (d *DAO) DefaultPostCrudEvent(ctx context.Context, op string, entity, old Row, o *Options) {
	if o != nil && o.NoBroadcastCrud {
		return
	}
	h := d.db.eventHandler()
	if h == nil {
		return
	}
	ev := d.newCrudEvent(op, entity, old, o)
	if err := h.PostCrudEvent(ctx, ev); err != nil {
		slog.Error("[db] failed to propagate CRUD operation", "entity", d.Schema.Name, "op", op, "err", err)
	}
}

func (d *DAO) postCrudEvent(ctx context.Context, op string, entity, old Row, o *Options) {
	if f := d.PostCrudEvent; f != nil {
		f(ctx, op, entity, old, o)
	}
}

// EventFunc adapts a function to EventHandler.
type EventFunc func(ctx context.Context, ev *CrudEvent) error

func (f EventFunc) PostCrudEvent(ctx context.Context, ev *CrudEvent) error { return f(ctx, ev) }

// newCrudEvent builds the event of a write: null-stripped deep copies of
// the entities, and the workspace.
func (d *DAO) newCrudEvent(op string, entity, old Row, o *Options) *CrudEvent {
	ev := &CrudEvent{Operation: op, Schema: d.Schema}
	if entity != nil {
		ev.Entity = removeNulls(entity).(map[string]any)
	}
	if old != nil {
		ev.OldEntity = removeNulls(old).(map[string]any)
	}
	if o != nil {
		ev.Workspace = o.Workspace
	}
	if ws, ok := entity["ws_id"].(string); ok && ws != "" {
		ev.Workspace = ws
	}
	return ev
}
