package kongdb

import (
	"context"
	"time"
)

type workspaceKey struct{}

// WithWorkspace returns a context whose current workspace is wsID (Kong's
// ngx.ctx.workspace). Without it, the DAO uses the default workspace.
func WithWorkspace(ctx context.Context, wsID string) context.Context {
	return context.WithValue(ctx, workspaceKey{}, wsID)
}

// WorkspaceFrom returns the workspace set with WithWorkspace, or "".
func WorkspaceFrom(ctx context.Context) string {
	ws, _ := ctx.Value(workspaceKey{}).(string)
	return ws
}

type clockKey struct{}

// WithClock returns a context whose writes stamp created_at/updated_at
// with now instead of the DB's clock. The declarative import uses it to
// keep the timestamps a file gives (Kong's upsert would reset updated_at),
// so db_export → db_import → db_export round-trips unchanged.
func WithClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// clockFrom returns the clock set with WithClock, or nil.
func clockFrom(ctx context.Context) func() time.Time {
	now, _ := ctx.Value(clockKey{}).(func() time.Time)
	return now
}
