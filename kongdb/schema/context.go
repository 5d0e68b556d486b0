package schema

import "context"

// DeprecationHandler receives the warning Kong raises when a value is given
// for a field carrying `deprecation = { message, removal_in_version,
// old_default? }` (kong.deprecation(message, { after = removal_in_version })).
// The host logs it; data planes install none (Kong stays quiet there).
type DeprecationHandler func(message, removalInVersion string)

type deprecationKey struct{}

// WithDeprecationHandler returns a context whose validations report
// deprecated fields to h.
func WithDeprecationHandler(ctx context.Context, h DeprecationHandler) context.Context {
	return context.WithValue(ctx, deprecationKey{}, h)
}

// warnDeprecated reports a deprecated field given a value (not null, not
// equal to old_default).
func warnDeprecated(ctx context.Context, f *Field, v any) {
	h, _ := ctx.Value(deprecationKey{}).(DeprecationHandler)
	if h == nil {
		return
	}
	if old, ok := f.Deprecation["old_default"]; ok && old != nil && DeepEqual(v, old) {
		return
	}
	msg, _ := f.Deprecation["message"].(string)
	after, _ := f.Deprecation["removal_in_version"].(string)
	h(msg, after)
}

type dataPlaneKey struct{}

// WithDataPlane returns a context for validating on a data plane, where
// Kong ignores unknown fields whose value is null (a control plane may be
// newer than its data planes).
func WithDataPlane(ctx context.Context) context.Context {
	return context.WithValue(ctx, dataPlaneKey{}, true)
}

func isDataPlane(ctx context.Context) bool {
	b, _ := ctx.Value(dataPlaneKey{}).(bool)
	return b
}
