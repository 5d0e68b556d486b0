package declarative

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// Handler serves the Admin API's /config (Kong's kong/api/routes/config.lua)
// on the embedded store: GET exports the current contents as a YAML string,
// POST replaces them with a declarative configuration. Mount it at
// "/config".
type Handler struct {
	DB     *kongdb.DB
	Logger *slog.Logger // nil: slog.Default()
	// Reloaded runs after a configuration was loaded: Kong DB-less then
	// purges kong.cache and kong.core_cache (its "declarative:reconfigure"
	// event), so values plugins cached under their own keys go too.
	Reloaded func()

	busy sync.Mutex // one reload at a time (Kong answers 429 meanwhile)
	mu   sync.Mutex
	hash string // the hash of the configuration loaded last
}

// NewHandler returns the /config handler over db.
func NewHandler(db *kongdb.DB) *Handler { return &Handler{DB: db} }

// SetHash records the hash of a configuration loaded outside the handler
// (declarative_config at start), for check_hash.
func (h *Handler) SetHash(hash string) {
	h.mu.Lock()
	h.hash = hash
	h.mu.Unlock()
}

// Hash is the hash of the configuration loaded last ("" = none): Kong's
// configuration_hash on /status.
func (h *Handler) Hash() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hash
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func message(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.DB.Strategy() != "off" {
		message(w, http.StatusBadRequest, "this endpoint is only available when Kong is configured to not use a database")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r)
	case http.MethodPost:
		h.post(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS, POST")
		message(w, http.StatusMethodNotAllowed, "Method not allowed")
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := Export(r.Context(), h.DB, &b, ExportOptions{}); err != nil {
		h.logger().Error("failed exporting config", "err", err)
		message(w, http.StatusInternalServerError, "An unexpected error occurred")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"config": b.String()})
}

// truthy is Kong's truthy() of config.lua.
func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "true", "1", "on", "yes":
		return true
	}
	return false
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSize))
	if err != nil {
		message(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	params := map[string]string{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	raw := body // the configuration's bytes
	var table map[string]any
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if len(bytes.TrimSpace(body)) > 0 {
			if err := dec.Decode(&v); err != nil {
				message(w, http.StatusBadRequest, "Cannot parse JSON body")
				return
			}
		}
		m, _ := v.(map[string]any)
		for _, k := range []string{"flatten_errors", "check_hash"} {
			if x, ok := m[k]; ok {
				params[k] = jsonScalar(x)
				delete(m, k)
			}
		}
		if _, ok := m["_format_version"]; ok {
			table = m
		} else if s, ok := m["config"].(string); ok {
			raw = []byte(s)
		} else if m != nil {
			raw = nil
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(MaxSize); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			message(w, http.StatusBadRequest, "Cannot parse form body")
			return
		}
		for k, vs := range r.PostForm {
			if len(vs) > 0 {
				params[k] = vs[0]
			}
		}
		raw = []byte(params["config"])
	}
	if table == nil && len(bytes.TrimSpace(raw)) == 0 {
		message(w, http.StatusBadRequest, "expected a declarative configuration")
		return
	}
	flatten := truthy(params["flatten_errors"])
	hash := contentHash(raw)
	if params["check_hash"] == "1" {
		h.mu.Lock()
		same := h.hash == hash
		h.mu.Unlock()
		if same {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if !h.busy.TryLock() {
		message(w, http.StatusTooManyRequests, "Currently loading previous configuration")
		return
	}
	defer h.busy.Unlock()

	ctx := r.Context()
	var cfg *Config
	if table != nil {
		var v any
		if v, err = fromJSON(table, 0); err != nil {
			err = syntaxError(err.Error())
		} else {
			cfg, err = ParseTable(ctx, h.DB, v.(map[string]any), ParseOptions{})
		}
	} else {
		cfg, err = Parse(ctx, h.DB, raw, "", ParseOptions{})
	}
	if err != nil {
		var de *Error
		if errors.As(err, &de) {
			writeJSON(w, http.StatusBadRequest, de.Body(flatten))
			return
		}
		h.logger().Error("failed parsing declarative config", "err", err)
		message(w, http.StatusInternalServerError, "An unexpected error occurred")
		return
	}
	if err := cfg.Replace(ctx, h.DB); err != nil {
		if ke, ok := kongdb.AsError(err); ok && ke.Code.HTTPStatus() < 500 {
			message(w, http.StatusBadRequest, err.Error())
			return
		}
		h.logger().Error("failed loading declarative config", "err", err)
		message(w, http.StatusInternalServerError, "An unexpected error occurred")
		return
	}
	h.mu.Lock()
	h.hash = hash
	h.mu.Unlock()
	if h.Reloaded != nil {
		h.Reloaded()
	}
	out, err := loadedEntities(r, h.DB, cfg)
	if err != nil {
		h.logger().Error("failed reading the loaded config", "err", err)
		message(w, http.StatusInternalServerError, "An unexpected error occurred")
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// loadedEntities is the 201 body: entity -> id -> entity as stored (Kong
// answers its flattened entities, without workspaces and ws_id).
func loadedEntities(r *http.Request, db *kongdb.DB, cfg *Config) (map[string]any, error) {
	out := map[string]any{}
	for _, e := range cfg.Entries {
		if e.Entity == "workspaces" {
			continue
		}
		d := db.DAO(e.Entity)
		row, err := d.Select(r.Context(), d.ExtractPK(e.Row), map[string]any{"nulls": true})
		if err != nil {
			return nil, err
		}
		if row == nil {
			continue // expired
		}
		m, _ := out[e.Entity].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out[e.Entity] = m
		}
		m[pkString(d.Schema, e.Row)] = schema.JSONReady(row)
	}
	return out, nil
}

func jsonScalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case json.Number:
		return x.String()
	}
	return ""
}

// fromJSON turns a JSON-decoded value into kongdb's value model, refusing
// what Decode refuses (MaxDepth).
func fromJSON(v any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("failed parsing declarative configuration: nested deeper than %d levels", MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return schema.Null, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String(), nil
		}
		return f, nil
	case map[string]any:
		for k, e := range x {
			c, err := fromJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	case []any:
		for i, e := range x {
			c, err := fromJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	}
	return v, nil
}
