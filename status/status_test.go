package status_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/luahost/luahost/metrics"
	"github.com/luahost/luahost/status"
)

func get(t *testing.T, h *status.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// An unreachable database shows on /status and as
// kong_datastore_reachable 0; a node not ready answers 503 on
// /status/ready; unknown paths 404.
func TestStatusUnreachableNotReady(t *testing.T) {
	rec := metrics.New()
	h := &status.Handler{Metrics: rec,
		Reachable: func(context.Context) error { return errors.New("connection refused") },
		Server:    func() status.ServerStats { return status.ServerStats{Active: 3, Accepted: 9, Writing: 1, Requests: 12} },
		Ready:     func() bool { return false }}
	code, body := get(t, h, "/status")
	var st struct {
		Database struct{ Reachable bool }
		Server   map[string]float64
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		t.Fatalf("%d %s %v", code, body, err)
	}
	if st.Database.Reachable || st.Server["connections_active"] != 3 || st.Server["connections_accepted"] != 9 ||
		st.Server["connections_writing"] != 1 || st.Server["total_requests"] != 12 {
		t.Errorf("status: %s", body)
	}
	if strings.Contains(body, "configuration_hash") {
		t.Errorf("hash without a declarative config: %s", body)
	}
	if _, m := get(t, h, "/metrics"); !strings.Contains(m, "kong_datastore_reachable 0") {
		t.Errorf("metrics: %s", m)
	}
	if code, _ := get(t, h, "/status/ready"); code != 503 {
		t.Errorf("ready: %d", code)
	}
	if code, _ := get(t, h, "/nope"); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}
