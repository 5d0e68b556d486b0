package balancer

import (
	"strconv"
	"strings"
	"time"
)

// Upstream is the part of an upstreams row the balancer uses.
type Upstream struct {
	ID, Name, WsID string
	Algorithm      string // round-robin, consistent-hashing, least-connections, latency
	HashOn         HashSpec
	HashFallback   HashSpec
	CookiePath     string
	Slots          int
	HostHeader     string // "" when unset
	// UseSRVName sends an SRV record's target name as the Host header
	// instead of the target's name (use_srv_name).
	UseSRVName bool
	Checks     Checks
}

// HashSpec is hash_on (or hash_fallback) with the field naming what it
// reads: the header, cookie, query argument or URI capture.
type HashSpec struct {
	On   string // none, consumer, ip, header, cookie, path, query_arg, uri_capture
	Name string
}

// Checks is upstream.healthchecks.
type Checks struct {
	Active    ActiveChecks
	Passive   PassiveChecks
	Threshold float64
}

// ActiveChecks is healthchecks.active.
type ActiveChecks struct {
	Type        string // http, https (tcp, grpc, grpcs: not probed)
	Timeout     time.Duration
	Concurrency int
	HTTPPath    string
	HTTPSSNI    string
	Verify      bool
	Headers     map[string][]string
	Healthy     HealthyConf
	Unhealthy   UnhealthyConf
}

// PassiveChecks is healthchecks.passive.
type PassiveChecks struct {
	Healthy   HealthyConf
	Unhealthy UnhealthyConf
}

// HealthyConf is a healthy record: Interval only for active checks.
type HealthyConf struct {
	Interval  time.Duration
	Statuses  []int
	Successes int
}

// UnhealthyConf is an unhealthy record.
type UnhealthyConf struct {
	Interval                         time.Duration
	Statuses                         []int
	TCPFailures, Timeouts, HTTPFails int
}

// UsingHealthchecks is Kong's is_upstream_using_healthcheck: an active
// interval or a passive unhealthy threshold is set.
func (u *Upstream) UsingHealthchecks() bool {
	c := &u.Checks
	return c.Active.Healthy.Interval != 0 || c.Active.Unhealthy.Interval != 0 ||
		c.Passive.Unhealthy.TCPFailures != 0 || c.Passive.Unhealthy.Timeouts != 0 ||
		c.Passive.Unhealthy.HTTPFails != 0
}

// ParseUpstream reads an upstreams row (kongdb's map, numbers float64,
// nulls any non-string value).
func ParseUpstream(row map[string]any) *Upstream {
	u := &Upstream{
		ID: str(row["id"]), Name: str(row["name"]), WsID: str(row["ws_id"]),
		Algorithm:  str(row["algorithm"]),
		CookiePath: str(row["hash_on_cookie_path"]),
		Slots:      num(row["slots"], 10000),
		HostHeader: str(row["host_header"]),
		UseSRVName: row["use_srv_name"] == true,
	}
	if u.Algorithm == "" {
		u.Algorithm = "round-robin"
	}
	if u.CookiePath == "" {
		u.CookiePath = "/"
	}
	spec := func(on string, prefix string) HashSpec {
		s := HashSpec{On: on}
		switch on {
		case "header":
			s.Name = str(row[prefix+"_header"])
		case "cookie":
			s.Name = str(row["hash_on_cookie"]) // hash_fallback cookie uses hash_on_cookie too
		case "query_arg":
			s.Name = str(row[prefix+"_query_arg"])
		case "uri_capture":
			s.Name = str(row[prefix+"_uri_capture"])
		case "":
			s.On = "none"
		}
		return s
	}
	u.HashOn = spec(str(row["hash_on"]), "hash_on")
	u.HashFallback = spec(str(row["hash_fallback"]), "hash_fallback")
	hc, _ := row["healthchecks"].(map[string]any)
	act, _ := hc["active"].(map[string]any)
	pas, _ := hc["passive"].(map[string]any)
	u.Checks.Threshold = float(hc["threshold"], 0)
	a := &u.Checks.Active
	a.Type = str(act["type"])
	if a.Type == "" {
		a.Type = "http"
	}
	a.Timeout = secs(act["timeout"], 1)
	a.Concurrency = num(act["concurrency"], 10)
	a.HTTPPath = str(act["http_path"])
	if a.HTTPPath == "" {
		a.HTTPPath = "/"
	}
	a.HTTPSSNI = str(act["https_sni"])
	a.Verify = act["https_verify_certificate"] != false
	if hs, ok := act["headers"].(map[string]any); ok {
		a.Headers = map[string][]string{}
		for k, v := range hs {
			for _, e := range list(v) {
				if s, ok := e.(string); ok {
					a.Headers[k] = append(a.Headers[k], s)
				}
			}
		}
	}
	a.Healthy = healthy(act["healthy"], []int{200, 302})
	a.Unhealthy = unhealthy(act["unhealthy"], []int{429, 404, 500, 501, 502, 503, 504, 505})
	u.Checks.Passive.Healthy = healthy(pas["healthy"],
		[]int{200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308})
	u.Checks.Passive.Unhealthy = unhealthy(pas["unhealthy"], []int{429, 500, 503})
	return u
}

func healthy(v any, def []int) HealthyConf {
	m, _ := v.(map[string]any)
	return HealthyConf{Interval: secs(m["interval"], 0), Statuses: statuses(m["http_statuses"], def),
		Successes: num(m["successes"], 0)}
}

func unhealthy(v any, def []int) UnhealthyConf {
	m, _ := v.(map[string]any)
	return UnhealthyConf{Interval: secs(m["interval"], 0), Statuses: statuses(m["http_statuses"], def),
		TCPFailures: num(m["tcp_failures"], 0), Timeouts: num(m["timeouts"], 0), HTTPFails: num(m["http_failures"], 0)}
}

func statuses(v any, def []int) []int {
	l, ok := v.([]any)
	if !ok {
		return def
	}
	out := make([]int, 0, len(l))
	for _, e := range l {
		if f, ok := e.(float64); ok {
			out = append(out, int(f))
		}
	}
	return out
}

func list(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func float(v any, def float64) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return def
}

func num(v any, def int) int { return int(float(v, float64(def))) }

func secs(v any, def float64) time.Duration {
	return time.Duration(float(v, def) * float64(time.Second))
}

// TargetRow is the part of a targets row the balancer uses.
type TargetRow struct {
	ID, UpstreamID string
	Name           string // host or IP, without brackets
	Port           int
	Weight         int
	CreatedAt      float64
}

// ParseTarget reads a targets row ("target" is "host:port", "[v6]:port").
func ParseTarget(row map[string]any) (TargetRow, bool) {
	t := TargetRow{ID: str(row["id"]), Weight: num(row["weight"], 100), CreatedAt: float(row["created_at"], 0)}
	if up, ok := row["upstream"].(map[string]any); ok {
		t.UpstreamID = str(up["id"])
	}
	s := str(row["target"])
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.HasSuffix(s, "]") {
		t.Name, t.Port = strings.Trim(s, "[]"), 8000 // the targets DAO's DEFAULT_PORT
	} else {
		p, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return t, false
		}
		t.Name, t.Port = strings.Trim(s[:i], "[]"), p
	}
	return t, t.Name != "" && t.UpstreamID != ""
}
