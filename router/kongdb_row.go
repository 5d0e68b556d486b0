package router

import (
	"fmt"
	"math"
	"sort"
)

// Adapters from the entity form kongdb returns (kongdb.Row, a
// map[string]any): numbers are float64, arrays and sets []any, a foreign key
// map[string]any{"id": ...}, and an explicit null is kongdb/schema.Null. Any
// value of an unexpected type (Null included) reads as "not set", so this file
// needs no kongdb import.

// RouteFromRow converts a routes row. Missing fields take Kong's defaults
// (strip_path true, https_redirect_status_code 426, path_handling "v0", ...).
func RouteFromRow(row map[string]any) (Route, error) {
	r := Route{
		ID:                      rowString(row, "id"),
		Name:                    rowString(row, "name"),
		Protocols:               rowStrings(row, "protocols"),
		Methods:                 rowStrings(row, "methods"),
		Hosts:                   rowStrings(row, "hosts"),
		Paths:                   rowStrings(row, "paths"),
		SNIs:                    rowStrings(row, "snis"),
		RegexPriority:           rowInt(row, "regex_priority", 0),
		StripPath:               rowBool(row, "strip_path", true),
		PreserveHost:            rowBool(row, "preserve_host", false),
		PathHandling:            rowString(row, "path_handling"),
		HTTPSRedirectStatusCode: rowInt(row, "https_redirect_status_code", 426),
		RequestBuffering:        rowBool(row, "request_buffering", true),
		ResponseBuffering:       rowBool(row, "response_buffering", true),
		CreatedAt:               int64(rowInt(row, "created_at", 0)),
		UpdatedAt:               int64(rowInt(row, "updated_at", 0)),
		ServiceID:               rowForeignID(row, "service"),
		WsID:                    rowString(row, "ws_id"),
		Tags:                    rowStrings(row, "tags"),
	}
	if r.ID == "" {
		return r, fmt.Errorf("routes row without id")
	}
	if r.PathHandling == "" {
		r.PathHandling = "v0"
	}
	if h, ok := row["headers"].(map[string]any); ok && len(h) > 0 {
		r.Headers = make(map[string][]string, len(h))
		names := make([]string, 0, len(h))
		for k := range h {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			r.Headers[k] = anyStrings(h[k])
		}
	}
	var err error
	if r.Sources, err = rowNets(row, "sources"); err != nil {
		return r, fmt.Errorf("route %s: %v", r.ID, err)
	}
	if r.Destinations, err = rowNets(row, "destinations"); err != nil {
		return r, fmt.Errorf("route %s: %v", r.ID, err)
	}
	return r, nil
}

// ServiceFromRow converts a services row.
func ServiceFromRow(row map[string]any) (*Service, error) {
	s := &Service{
		ID:             rowString(row, "id"),
		Name:           rowString(row, "name"),
		Protocol:       rowString(row, "protocol"),
		Host:           rowString(row, "host"),
		Port:           rowInt(row, "port", 0),
		Path:           rowString(row, "path"),
		Retries:        rowInt(row, "retries", 5),
		ConnectTimeout: rowInt(row, "connect_timeout", 60000),
		WriteTimeout:   rowInt(row, "write_timeout", 60000),
		ReadTimeout:    rowInt(row, "read_timeout", 60000),
		CACertificates: rowStrings(row, "ca_certificates"),
		ClientCertID:   rowForeignID(row, "client_certificate"),
		CreatedAt:      int64(rowInt(row, "created_at", 0)),
		UpdatedAt:      int64(rowInt(row, "updated_at", 0)),
		WsID:           rowString(row, "ws_id"),
		Tags:           rowStrings(row, "tags"),
	}
	if s.ID == "" {
		return nil, fmt.Errorf("services row without id")
	}
	if s.Protocol == "" {
		s.Protocol = "http"
	}
	if b, ok := row["enabled"].(bool); ok {
		s.Enabled = &b
	}
	if b, ok := row["tls_verify"].(bool); ok {
		s.TLSVerify = &b
	}
	if _, ok := toNumber(row["tls_verify_depth"]); ok {
		d := rowInt(row, "tls_verify_depth", 0)
		s.TLSVerifyDepth = &d
	}
	return s, nil
}

// FromRows converts routes and services rows into New's arguments.
func FromRows(routeRows, serviceRows []map[string]any) ([]Route, map[string]*Service, error) {
	services := make(map[string]*Service, len(serviceRows))
	for _, row := range serviceRows {
		s, err := ServiceFromRow(row)
		if err != nil {
			return nil, nil, err
		}
		services[s.ID] = s
	}
	routes := make([]Route, 0, len(routeRows))
	for _, row := range routeRows {
		r, err := RouteFromRow(row)
		if err != nil {
			return nil, nil, err
		}
		routes = append(routes, r)
	}
	return routes, services, nil
}

func rowString(row map[string]any, k string) string {
	s, _ := row[k].(string)
	return s
}

func rowBool(row map[string]any, k string, def bool) bool {
	if b, ok := row[k].(bool); ok {
		return b
	}
	return def
}

func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}

func rowInt(row map[string]any, k string, def int) int {
	n, ok := toNumber(row[k])
	if !ok || math.IsNaN(n) {
		return def
	}
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	if n < math.MinInt32 {
		return math.MinInt32
	}
	return int(n)
}

func anyStrings(v any) []string {
	switch a := v.(type) {
	case []string:
		return a
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func rowStrings(row map[string]any, k string) []string {
	s := anyStrings(row[k])
	if len(s) == 0 {
		return nil
	}
	return s
}

func rowForeignID(row map[string]any, k string) string {
	switch f := row[k].(type) {
	case map[string]any:
		s, _ := f["id"].(string)
		return s
	case string:
		return f
	}
	return ""
}

func rowNets(row map[string]any, k string) ([]CIDRPort, error) {
	a, ok := row[k].([]any)
	if !ok {
		return nil, nil
	}
	var out []CIDRPort
	for _, e := range a {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s elements must be records", k)
		}
		out = append(out, CIDRPort{IP: rowString(m, "ip"), Port: rowInt(m, "port", 0)})
	}
	return out, nil
}
