package spechelpers

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// logStore is the mock upstream's log store (Kong keeps it in the shared
// dict kong_mock_upstream_loggers): per name, the entries posted to
// /post_log/{name} in order, each with the headers of the request that
// brought it. One per handler, so the HTTP and HTTPS sides share it.
type logStore struct {
	mu   sync.Mutex
	logs map[string]*mockLog
}

type mockLog struct {
	entries []storedEntry
}

// storedEntry is one posted entry: its JSON (nil when the posted body gave
// none, which reading then fails on, as Kong's) and the request's headers
type storedEntry struct {
	entry   json.RawMessage
	headers map[string]any
}

// store answers /post_log/{name}: the body is JSON, an array of entries
// or a single one (an object, or an empty array: one empty entry); each is
// kept with the request's headers. 200 with no body; a body that is not
// JSON, or a JSON number, boolean or null, is a Lua error in Kong's: 500.
func (s *logStore) store(w http.ResponseWriter, r *http.Request, name string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		internalError(w)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var top any
	if err := dec.Decode(&top); err != nil || dec.More() {
		internalError(w)
		return
	}
	var entries []json.RawMessage
	switch v := top.(type) {
	case []any:
		var raw []json.RawMessage
		json.Unmarshal(body, &raw)
		entries = raw
		if len(entries) == 0 {
			entries = []json.RawMessage{json.RawMessage("{}")}
		}
	case map[string]any:
		entries = []json.RawMessage{json.RawMessage(body)}
	case string:
		// Lua's # of a string is its length: that many entries, each
		// without an entry, and a lone "" is kept as itself
		n := len(v)
		if n == 0 {
			entries = []json.RawMessage{json.RawMessage(`""`)}
		}
		for i := 0; i < n; i++ {
			entries = append(entries, nil)
		}
	default:
		internalError(w)
		return
	}
	headers := reqHeaders(r)
	s.mu.Lock()
	l := s.logs[name]
	if l == nil {
		l = &mockLog{}
		s.logs[name] = l
	}
	for _, e := range entries {
		l.entries = append(l.entries, storedEntry{entry: e, headers: headers})
	}
	s.mu.Unlock()
	emptyOK(w)
}

// read answers /read_log/{name}: {"entries": [...], "count": n}, each
// entry its object with log_req_headers added. A log never posted to (or
// reset) is {"entries":{}} with no count, as cjson writes an empty table
// and a nil. An entry that is not an object or an array is a Lua error
// there: 500.
func (s *logStore) read(w http.ResponseWriter, name string) {
	s.mu.Lock()
	var stored []storedEntry
	if l := s.logs[name]; l != nil {
		stored = append(stored, l.entries...)
	}
	s.mu.Unlock()
	out := map[string]any{"entries": map[string]any{}}
	if len(stored) > 0 {
		entries := make([]any, len(stored))
		for i, st := range stored {
			e, ok := withHeaders(st)
			if !ok {
				internalError(w)
				return
			}
			entries[i] = e
		}
		out["entries"] = entries
		out["count"] = len(stored)
	}
	b, _ := json.Marshal(out)
	plainText(w, string(b)+"\n")
}

// withHeaders is a stored entry as Kong's retrieve_log gives it back: the
// JSON through cjson (an empty array becomes {}), log_req_headers set in
// it; an array entry is a table with a string key then, written as an
// object keyed "1", "2", ...
func withHeaders(st storedEntry) (map[string]any, bool) {
	if st.entry == nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(st.entry))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	var obj map[string]any
	switch v := cjsonRoundTrip(v).(type) {
	case map[string]any:
		obj = v
	case []any:
		obj = make(map[string]any, len(v)+1)
		for i, e := range v {
			obj[strconv.Itoa(i+1)] = e
		}
	default:
		return nil, false
	}
	obj["log_req_headers"] = st.headers
	return obj, true
}

// cjsonRoundTrip turns empty arrays into empty objects, as decoding and
// encoding with cjson does
func cjsonRoundTrip(v any) any {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return map[string]any{}
		}
		for i := range v {
			v[i] = cjsonRoundTrip(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = cjsonRoundTrip(v[k])
		}
	}
	return v
}

// count answers /count_log/{name}: the number of entries, a line of text;
// a log never posted to is Kong's failed assert: 500
func (s *logStore) count(w http.ResponseWriter, name string) {
	s.mu.Lock()
	n := -1
	if l := s.logs[name]; l != nil {
		n = len(l.entries)
	}
	s.mu.Unlock()
	if n < 0 {
		internalError(w)
		return
	}
	plainText(w, strconv.Itoa(n)+"\n")
}

// reset forgets the log and its count (/reset_log/{name})
func (s *logStore) reset(name string) {
	s.mu.Lock()
	delete(s.logs, name)
	s.mu.Unlock()
}

// plainText is ngx.say's answer with nginx's default type
func plainText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, text)
}
