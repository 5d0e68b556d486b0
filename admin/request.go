package admin

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// Request is one Admin API request with its arguments decoded.
type Request struct {
	Ctx    *fasthttp.RequestCtx
	Method string
	// Path is the request path as sent (percent-encoded).
	Path string
	// Params are the route's captures, unescaped (":services" -> "services").
	Params map[string]string
	// Query is the query string decoded as Kong's arguments (nested keys,
	// repeated keys as arrays), values as strings.
	Query map[string]any
	// Body is the decoded body: a JSON object as sent, or form / multipart
	// arguments decoded as Query. nil when there is none.
	Body map[string]any
	// IsJSON: the body was JSON (its values are typed already).
	IsJSON bool
	// ContentType is the request's Content-Type, lower-cased.
	ContentType string

	route *route
	s     *Server
	ctx   context.Context
}

// Context is the context of DB calls made for the request.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		r.ctx = r.s.runnerContext(context.Background())
	}
	return r.ctx
}

// RawBody is the request body as received.
func (r *Request) RawBody() []byte { return r.Ctx.PostBody() }

var needsBody = map[string]bool{"POST": true, "PUT": true, "PATCH": true}

// parse is Kong's before_filter (415, 400 for several Content-Types) and
// argument loading (400 "Too many arguments", "Cannot parse JSON body");
// false when it answered.
func (r *Request) parse() bool {
	ctx := r.Ctx
	if n := ctx.QueryArgs().Len(); n > MaxArgs {
		r.Exit(400, "Too many arguments")
		return false
	}
	r.Query = DecodeForm(argsOf(ctx.QueryArgs()))
	if !needsBody[r.Method] {
		return true
	}
	var cts [][]byte
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		if bytes.EqualFold(k, []byte("Content-Type")) {
			cts = append(cts, v)
		}
	})
	body := ctx.PostBody()
	if len(cts) == 0 {
		if len(body) == 0 {
			return true
		}
		r.Exit(415, nil)
		return false
	}
	if len(cts) > 1 {
		r.Exit(400, "Multiple Content-Type headers not allowed")
		return false
	}
	ct := string(cts[0])
	r.ContentType = strings.ToLower(ct)
	switch {
	case strings.HasPrefix(ct, "application/json"):
		m, err := DecodeJSON(body)
		if err != nil {
			r.Exit(400, map[string]any{"message": "Cannot parse JSON body"})
			return false
		}
		r.Body, r.IsJSON = m, true
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		var a fasthttp.Args
		a.ParseBytes(body)
		if a.Len() > MaxArgs {
			r.Exit(400, "Too many arguments")
			return false
		}
		r.Body = DecodeForm(argsOf(&a))
	case strings.HasPrefix(ct, "multipart/form-data"):
		args, ok := multipartArgs(ctx)
		if !ok {
			r.Exit(400, "Too many arguments")
			return false
		}
		r.Body = DecodeForm(args)
	case r.route.acceptYAML && (strings.HasPrefix(ct, "application/yaml") || strings.HasPrefix(ct, "text/yaml")):
	default:
		r.Exit(415, nil)
		return false
	}
	return true
}

func argsOf(a *fasthttp.Args) []Arg {
	if a.Len() == 0 {
		return nil
	}
	out := make([]Arg, 0, a.Len())
	a.VisitAll(func(k, v []byte) {
		out = append(out, Arg{string(k), string(v)})
	})
	return out
}

// multipartArgs reads a multipart body's parts as arguments (a file's
// content as its value, as Kong's multipart decoder gives it).
func multipartArgs(ctx *fasthttp.RequestCtx) ([]Arg, bool) {
	f, err := ctx.MultipartForm()
	if err != nil {
		return nil, true
	}
	var out []Arg
	for k, vs := range f.Value {
		for _, v := range vs {
			out = append(out, Arg{k, v})
		}
	}
	for k, fhs := range f.File {
		for _, fh := range fhs {
			rd, err := fh.Open()
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(io.LimitReader(rd, int64(DefaultMaxBodySize)))
			rd.Close()
			out = append(out, Arg{k, string(b)})
		}
	}
	return out, len(out) <= MaxArgs
}

// Exit answers as Kong's kong.response.exit in the Admin API: a string
// body is {"message": body}; 405 and 500 always carry Kong's own message,
// 404 has "Not found" when no body is given; 204 has no body.
func (r *Request) Exit(status int, body any) {
	exit(r.Ctx, status, body)
}

func exit(ctx *fasthttp.RequestCtx, status int, body any) {
	switch status {
	case 405:
		body = map[string]any{"message": "Method not allowed"}
	case 500:
		body = map[string]any{"message": "An unexpected error occurred"}
	case 404, 401, 503:
		if body == nil {
			body = map[string]any{"message": map[int]string{404: "Not found", 401: "Unauthorized", 503: "Service unavailable"}[status]}
		}
	case 204:
		body = nil
	}
	if s, ok := body.(string); ok {
		body = map[string]any{"message": s}
	}
	if body == nil {
		ctx.SetStatusCode(status)
		return
	}
	writeJSON(ctx, status, body)
}

// JSON answers status with v encoded as JSON.
func (r *Request) JSON(status int, v any) { writeJSON(r.Ctx, status, v) }

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType("application/json; charset=utf-8")
	ctx.Response.SetBodyRaw(AppendJSON(nil, v))
}

// Error answers a DAO error as Kong's endpoints.handle_error: the error
// code's status and the err_t without its strategy; codes Kong has no
// status for (and non-Kong errors) are a logged 500.
func (r *Request) Error(err error) {
	e, ok := kongdb.AsError(err)
	if !ok {
		r.s.logger.Error("admin API error", "path", r.Path, "err", err)
		r.Exit(500, nil)
		return
	}
	status := e.Code.HTTPStatus()
	if status == 500 {
		r.s.logger.Error("admin API error", "path", r.Path, "err", err)
		r.Exit(500, nil)
		return
	}
	r.JSON(status, ErrBody(e))
}

// ErrBody is Kong's err_t as the Admin API sends it (no strategy).
func ErrBody(e *kongdb.Error) map[string]any {
	m := map[string]any{"code": float64(e.Code), "name": e.Name}
	if e.HasMessage {
		m["message"] = e.Message
	}
	if e.Options != nil {
		m["options"] = e.Options
	} else if e.Fields != nil {
		m["fields"] = e.Fields
	}
	return m
}

// uriArgs is the query decoded and inferred with s (Kong's self.args.uri).
func (r *Request) uriArgs(s *schema.Schema) map[string]any {
	return Infer(copyMap(r.Query), s)
}

// postArgs is the body as Kong's self.args.post for s: JSON as sent, form
// values inferred with s. Always a fresh map.
func (r *Request) postArgs(s *schema.Schema) map[string]any {
	if r.Body == nil {
		return map[string]any{}
	}
	m := copyMap(r.Body)
	if r.IsJSON {
		if s != nil {
			emptyTables(m, s.Fields)
		}
		return m
	}
	return Infer(m, s)
}

// emptyTables gives an empty JSON object or array the type its field
// expects: Kong decodes both to an empty Lua table, which is an empty
// array for an array or set field and an empty map for a map or record.
func emptyTables(m map[string]any, fields []*schema.Field) {
	for _, f := range fields {
		switch v := m[f.Name].(type) {
		case map[string]any:
			switch {
			case len(v) == 0 && (f.Type == schema.TypeArray || f.Type == schema.TypeSet):
				m[f.Name] = []any{}
			case f.Type == schema.TypeRecord:
				emptyTables(v, f.Fields)
			}
		case []any:
			if len(v) == 0 && (f.Type == schema.TypeMap || f.Type == schema.TypeRecord) {
				m[f.Name] = map[string]any{}
			}
		}
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
