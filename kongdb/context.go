package kongdb

import "context"

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
