// Package status serves a node's status_listen: Kong's GET /status (the
// shape of kong/api/routes/health.lua), /status/ready, and Prometheus'
// /metrics from a metrics.Recorder. It is net/http, apart from the proxy.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/luahost/luahost/metrics"
)

// ServerStats are the proxy's connection and request counters (Kong
// reports nginx's stub_status).
type ServerStats struct {
	Accepted, Handled, Active, Reading, Writing, Waiting int64
	Requests                                             int64
}

// Handler answers /status, /status/ready and /metrics.
type Handler struct {
	// Reachable checks the database (nil: always reachable, the embedded
	// store).
	Reachable func(ctx context.Context) error
	// Server reads the proxy's connection counters; nil reports zeros
	// and the requests Metrics counted.
	Server func() ServerStats
	// ConfigHash is the hash of the declarative configuration loaded
	// (DB-less); nil leaves configuration_hash out, as Kong does with a
	// database.
	ConfigHash func() string
	// Ready reports whether the node routes requests (/status/ready).
	Ready   func() bool
	Metrics *metrics.Recorder

	once sync.Once
	mux  *http.ServeMux
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		m := http.NewServeMux()
		m.HandleFunc("/status", h.status)
		m.HandleFunc("/status/ready", h.ready)
		if h.Metrics != nil {
			m.Handle("/metrics", h.Metrics.Handler())
		}
		m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found"})
		})
		h.mux = m
	})
	h.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// mib is Kong's memory figure: "<n> MiB" with two decimals (unit "m",
// scale 2, the /status defaults).
func mib(n uint64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	reachable := true
	if h.Reachable != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		reachable = h.Reachable(ctx) == nil
		cancel()
	}
	h.Metrics.SetDatastoreReachable(reachable)
	ss := ServerStats{Requests: h.Metrics.TotalRequests()}
	if h.Server != nil {
		ss = h.Server()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	body := map[string]any{
		"database": map[string]any{"reachable": reachable},
		"server": map[string]any{
			"connections_accepted": ss.Accepted, "connections_handled": ss.Handled,
			"connections_active": ss.Active, "connections_reading": ss.Reading,
			"connections_writing": ss.Writing, "connections_waiting": ss.Waiting,
			"total_requests": ss.Requests,
		},
		"memory": map[string]any{
			// one Go process holds every Lua state: its heap stands for
			// Kong's per-worker Lua VM figures
			"workers_lua_vms":  []any{map[string]any{"pid": os.Getpid(), "http_allocated_gc": mib(ms.HeapAlloc)}},
			"lua_shared_dicts": map[string]any{},
		},
	}
	if h.ConfigHash != nil {
		hash := h.ConfigHash()
		if hash == "" {
			hash = "00000000000000000000000000000000" // Kong's empty-config hash
		}
		body["configuration_hash"] = hash
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) ready(w http.ResponseWriter, r *http.Request) {
	if h.Ready != nil && !h.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "ready"})
}
