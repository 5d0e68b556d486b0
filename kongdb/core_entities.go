package kongdb

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/luahost/luahost/kongdb/schema"
)

// The core entities of Kong 3 that carry TLS material and load balancing:
// snis, ca_certificates, upstreams and targets
// (kong/db/schema/entities/*.lua). Their Lua functions (validators, checks,
// transformations, shorthands) are written in Go here.

// SnisSchema is Kong's snis entity: a server name attached to a
// certificate.
func SnisSchema() *schema.Schema {
	name := &schema.Field{Name: "name", Type: schema.TypeString, Required: true, RequiredSet: true,
		Unique: true, UniqueAcrossWS: true, CustomValidator: builtin("wildcard_host")}
	cert := fForeign("certificate", "certificates", "", false)
	cert.Required, cert.RequiredSet = true, true
	return &schema.Schema{
		Name: "snis", PrimaryKey: []string{"id"}, EndpointKey: "name", DAO: "kong.db.dao.snis",
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), name, fTimestamp("created_at"), fTimestamp("updated_at"), fTags(), cert,
		},
	}
}

// CACertificatesSchema is Kong's ca_certificates entity: one CA
// certificate, with the SHA-256 digest of its DER form kept unique.
func CACertificatesSchema() *schema.Schema {
	return &schema.Schema{
		Name: "ca_certificates", PrimaryKey: []string{"id"}, DAO: "kong.db.dao.ca_certificates",
		DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), fTimestamp("created_at"), fTimestamp("updated_at"),
			{Name: "cert", Type: schema.TypeString, Required: true, RequiredSet: true, CustomValidator: builtin("certificate")},
			{Name: "cert_digest", Type: schema.TypeString, Unique: true},
			fTags(),
		},
		Transformations: []schema.Transformation{{
			Input:   []string{"cert"},
			OnWrite: &schema.Func{Ref: "go:ca_certificates.cert_digest", Go: caCertDigest},
		}},
		EntityChecks: []schema.EntityCheck{{Name: "custom_entity_check", Arg: map[string]any{
			"field_sources": strings2any("cert"),
			"fn":            &schema.Func{Ref: "go:ca_certificates.check", Go: caCertCheck},
		}}},
	}
}

const pemCertTag = "-----BEGIN CERTIFICATE-----"

func parseCert(s string) *x509.Certificate {
	der := []byte(s)
	if blk, _ := pem.Decode(der); blk != nil {
		der = blk.Bytes
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	return c
}

// caCertDigest is ca_certificates' on_write transformation: cert_digest is
// the hex SHA-256 of the certificate.
func caCertDigest(args ...any) []any {
	s, _ := firstArg(args).(string)
	c := parseCert(s)
	if c == nil {
		return []any{nil, "cannot create digest value of certificate"}
	}
	sum := sha256.Sum256(c.Raw)
	return []any{map[string]any{"cert_digest": hex.EncodeToString(sum[:])}}
}

// caCertCheck is ca_certificates' custom_entity_check: a single
// certificate, not expired, with the CA basic constraint.
func caCertCheck(args ...any) []any {
	e, _ := firstArg(args).(map[string]any)
	s, _ := e["cert"].(string)
	if i := strings.Index(s, pemCertTag); i >= 0 && strings.Contains(s[i+len(pemCertTag)+1:], pemCertTag) {
		return []any{nil, "please submit only one certificate at a time"}
	}
	c := parseCert(s)
	if c == nil {
		return []any{true} // the field validator has reported it
	}
	if c.NotAfter.Before(time.Now()) {
		return []any{nil, `certificate expired, "Not After" time is in the past`}
	}
	if !c.BasicConstraintsValid || !c.IsCA {
		return []any{nil, `certificate does not appear to be a CA because it is missing the "CA" basic constraint`}
	}
	return []any{true}
}

// TargetDefaultPort is the port the targets DAO adds to a target without
// one (kong/db/dao/targets.lua DEFAULT_PORT).
const TargetDefaultPort = 8000

// TargetsSchema is Kong's targets entity: an address of an upstream, with
// millisecond timestamps.
func TargetsSchema() *schema.Schema {
	ts := func(name string) *schema.Field {
		return &schema.Field{Name: name, Type: schema.TypeNumber, Timestamp: true, Auto: true}
	}
	up := fForeign("upstream", "upstreams", "cascade", false)
	up.Required, up.RequiredSet = true, true
	return &schema.Schema{
		Name: "targets", DAO: "kong.db.dao.targets", PrimaryKey: []string{"id"},
		CacheKey: []string{"upstream", "target"}, EndpointKey: "target",
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), ts("created_at"), ts("updated_at"), up,
			{Name: "target", Type: schema.TypeString, Required: true, RequiredSet: true, NativeValidator: validTarget},
			{Name: "weight", Type: schema.TypeInteger, Default: float64(100), HasDefault: true, Between: &[2]float64{0, 65535}},
			fTags(),
		},
	}
}

func validTarget(v any) (bool, string) {
	s, ok := v.(string)
	if !ok {
		return true, ""
	}
	if _, err := schema.NormalizeIP(s); err != "" {
		if !utf8.ValidString(s) {
			return false, "Invalid target; not a valid hostname or ip address"
		}
		return false, "Invalid target ('" + s + "'); not a valid hostname or ip address"
	}
	return true, ""
}

// FormatTarget is the targets DAO's format_target: the address with the
// default port 8000 when it has none, IPv6 in full within brackets.
func FormatTarget(target string) (string, bool) {
	p, err := schema.NormalizeIP(target)
	if err != "" {
		return "", false
	}
	port := TargetDefaultPort
	if p.HasPort {
		port = p.Port
	}
	host := p.Host
	if p.Type == "ipv6" && !strings.Contains(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port), true
}

// UpstreamsSchema is Kong's upstreams entity: a virtual host balanced over
// its targets, with its health checker configuration.
func UpstreamsSchema() *schema.Schema {
	hashOn := func(name string) *schema.Field {
		return &schema.Field{Name: name, Type: schema.TypeString, Default: "none", HasDefault: true,
			OneOf: strings2any("none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture")}
	}
	simple := func(name string) *schema.Field {
		return &schema.Field{Name: name, Type: schema.TypeString, LenMin: ptr(1)}
	}
	cookiePath := fPath("hash_on_cookie_path")
	cookiePath.Default, cookiePath.HasDefault = "/", true
	cc := fForeign("client_certificate", "certificates", "", false)
	m := func(re string) map[string]any { return map[string]any{"match": re} }
	req := map[string]any{"required": true}
	oneOf := func(ss ...string) map[string]any { return map[string]any{"one_of": strings2any(ss...)} }
	return &schema.Schema{
		Name: "upstreams", PrimaryKey: []string{"id"}, EndpointKey: "name",
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), fTimestamp("created_at"),
			{Name: "name", Type: schema.TypeString, Required: true, RequiredSet: true, Unique: true, NativeValidator: validUpstreamName},
			fTimestamp("updated_at"),
			{Name: "algorithm", Type: schema.TypeString, Default: "round-robin", HasDefault: true,
				OneOf: strings2any("consistent-hashing", "least-connections", "round-robin", "latency")},
			hashOn("hash_on"), hashOn("hash_fallback"),
			{Name: "hash_on_header", Type: schema.TypeString, CustomValidator: builtin("header_name")},
			{Name: "hash_fallback_header", Type: schema.TypeString, CustomValidator: builtin("header_name")},
			{Name: "hash_on_cookie", Type: schema.TypeString, CustomValidator: builtin("cookie_name")},
			cookiePath,
			simple("hash_on_query_arg"), simple("hash_fallback_query_arg"),
			simple("hash_on_uri_capture"), simple("hash_fallback_uri_capture"),
			{Name: "slots", Type: schema.TypeInteger, Default: float64(10000), HasDefault: true, Between: &[2]float64{10, 65536}},
			healthchecksField(),
			fTags(),
			{Name: "host_header", Type: schema.TypeString, CustomValidator: builtin("host_with_optional_port")},
			cc,
			{Name: "use_srv_name", Type: schema.TypeBoolean, Default: false, HasDefault: true},
		},
		EntityChecks: []schema.EntityCheck{
			conditional("hash_on", m("^header$"), "hash_on_header", req),
			conditional("hash_fallback", m("^header$"), "hash_fallback_header", req),
			conditional("hash_on", m("^cookie$"), "hash_on_cookie", req),
			conditional("hash_fallback", m("^cookie$"), "hash_on_cookie", req),
			conditional("hash_on", m("^none$"), "hash_fallback", oneOf("none")),
			conditional("hash_on", m("^cookie$"), "hash_fallback", oneOf("none")),
			conditional("hash_on", m("^consumer$"), "hash_fallback",
				oneOf("none", "ip", "header", "cookie", "path", "query_arg", "uri_capture")),
			conditional("hash_on", m("^ip$"), "hash_fallback",
				oneOf("none", "consumer", "header", "cookie", "path", "query_arg", "uri_capture")),
			conditional("hash_on", m("^path$"), "hash_fallback",
				oneOf("none", "consumer", "header", "cookie", "query_arg", "ip", "uri_capture")),
			{Name: "distinct", Arg: strings2any("hash_on_header", "hash_fallback_header")},
			conditional("hash_on", m("^query_arg$"), "hash_on_query_arg", req),
			conditional("hash_fallback", m("^query_arg$"), "hash_fallback_query_arg", req),
			{Name: "distinct", Arg: strings2any("hash_on_query_arg", "hash_fallback_query_arg")},
			conditional("hash_on", m("^uri_capture$"), "hash_on_uri_capture", req),
			conditional("hash_fallback", m("^uri_capture$"), "hash_fallback_uri_capture", req),
			{Name: "distinct", Arg: strings2any("hash_on_uri_capture", "hash_fallback_uri_capture")},
		},
		// Kong's backwards-compatibility shorthands: least-connections and
		// latency drop hash_on; a hash_on other than none means
		// consistent-hashing.
		ShorthandFields: []*schema.ShorthandField{
			{Field: &schema.Field{Name: "algorithm", Type: schema.TypeString},
				Func: &schema.Func{Ref: "go:upstreams.algorithm", Go: upstreamAlgorithmShorthand}},
			{Field: &schema.Field{Name: "hash_on", Type: schema.TypeString},
				Func: &schema.Func{Ref: "go:upstreams.hash_on", Go: upstreamHashOnShorthand}},
		},
	}
}

func upstreamAlgorithmShorthand(args ...any) []any {
	v := firstArg(args)
	if v == "least-connections" || v == "latency" {
		return []any{map[string]any{"algorithm": v, "hash_on": schema.Null}}
	}
	return []any{map[string]any{"algorithm": v}}
}

func upstreamHashOnShorthand(args ...any) []any {
	v := firstArg(args)
	switch {
	case schema.IsNull(v):
		return []any{map[string]any{"hash_on": "none"}}
	case v == "none":
		return []any{map[string]any{"hash_on": v, "algorithm": "round-robin"}}
	}
	return []any{map[string]any{"hash_on": v, "algorithm": "consistent-hashing"}}
}

func validUpstreamName(v any) (bool, string) {
	s, ok := v.(string)
	if !ok {
		return true, ""
	}
	prefix := "Invalid name ('" + s + "')"
	if !utf8.ValidString(s) {
		prefix = "Invalid name"
	}
	p, err := schema.NormalizeIP(s)
	switch {
	case err != "":
		return false, prefix + "; must be a valid hostname"
	case p.Type != "name":
		return false, prefix + "; no ip addresses allowed"
	case p.HasPort:
		return false, prefix + "; no port allowed"
	}
	return true, ""
}

// fPath is typedefs.path.
func fPath(name string) *schema.Field {
	return &schema.Field{Name: name, Type: schema.TypeString, StartsWith: ptr("/"),
		MatchNone:       []schema.MatchRule{{Pattern: "//", Err: "must not have empty segments"}},
		CustomValidator: builtin("path")}
}

// healthchecksField is upstreams' healthchecks record, every level with
// its defaults (Kong's gen_fields over healthchecks_config).
func healthchecksField() *schema.Field {
	ints := func(ns ...int) []any {
		out := make([]any, len(ns))
		for i, n := range ns {
			out[i] = float64(n)
		}
		return out
	}
	withDef := func(f *schema.Field, def any) *schema.Field {
		f.Default, f.HasDefault = def, true
		return f
	}
	seconds := func(name string, def float64) *schema.Field {
		return withDef(&schema.Field{Name: name, Type: schema.TypeNumber, Between: &[2]float64{0, 65535}}, def)
	}
	oneByte := func(name string) *schema.Field {
		return withDef(&schema.Field{Name: name, Type: schema.TypeInteger, Between: &[2]float64{0, 255}}, float64(0))
	}
	statuses := func(def ...int) *schema.Field {
		return withDef(&schema.Field{Name: "http_statuses", Type: schema.TypeArray,
			Elements: &schema.Field{Type: schema.TypeInteger, Between: &[2]float64{100, 999}}}, ints(def...))
	}
	checkType := func() *schema.Field {
		return withDef(&schema.Field{Name: "type", Type: schema.TypeString,
			OneOf: strings2any("tcp", "http", "https", "grpc", "grpcs")}, "http")
	}
	// record builds a record field whose default is its fields' defaults.
	record := func(name string, fields ...*schema.Field) *schema.Field {
		def := map[string]any{}
		for _, f := range fields {
			if f.HasDefault {
				def[f.Name] = f.Default
			}
		}
		return withDef(&schema.Field{Name: name, Type: schema.TypeRecord, Fields: fields}, def)
	}
	httpPath := withDef(fPath("http_path"), "/")
	sni := &schema.Field{Name: "https_sni", Type: schema.TypeString, Required: false, RequiredSet: true, CustomValidator: builtin("sni")}
	headers := &schema.Field{Name: "headers", Type: schema.TypeMap, Required: false, RequiredSet: true,
		Keys:   &schema.Field{Type: schema.TypeString, CustomValidator: builtin("header_name")},
		Values: &schema.Field{Type: schema.TypeArray, Elements: &schema.Field{Type: schema.TypeString}}}
	active := record("active",
		checkType(),
		seconds("timeout", 1),
		withDef(&schema.Field{Name: "concurrency", Type: schema.TypeInteger, Between: &[2]float64{1, 1 << 31}}, float64(10)),
		httpPath, sni,
		fBool("https_verify_certificate", true),
		headers,
		record("healthy", seconds("interval", 0), statuses(200, 302), oneByte("successes")),
		record("unhealthy", seconds("interval", 0), statuses(429, 404, 500, 501, 502, 503, 504, 505),
			oneByte("tcp_failures"), oneByte("timeouts"), oneByte("http_failures")),
	)
	passive := record("passive",
		checkType(),
		record("healthy", statuses(200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
			300, 301, 302, 303, 304, 305, 306, 307, 308), oneByte("successes")),
		record("unhealthy", statuses(429, 500, 503), oneByte("tcp_failures"), oneByte("timeouts"), oneByte("http_failures")),
	)
	hc := record("healthchecks", active, passive)
	hc.Fields = append(hc.Fields, withDef(&schema.Field{Name: "threshold", Type: schema.TypeNumber, Between: &[2]float64{0, 100}}, float64(0)))
	return hc
}

// parseKey reads a private key in PEM (PKCS#8, PKCS#1 or SEC 1).
func parseKey(s string) crypto.Signer {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		return nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		sg, _ := k.(crypto.Signer)
		return sg
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k
	}
	if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		return k
	}
	return nil
}

// certKeyMatch is certificates' check that a certificate's public key is
// its key's. Values that do not parse (vault references, or invalid ones
// the field validators report) pass.
func certKeyMatch(certField, keyField, msg string) func(args ...any) []any {
	return func(args ...any) []any {
		e, _ := firstArg(args).(map[string]any)
		cs, _ := e[certField].(string)
		ks, _ := e[keyField].(string)
		if cs == "" || ks == "" || schema.IsReference(cs) || schema.IsReference(ks) {
			return []any{true}
		}
		c, k := parseCert(cs), parseKey(ks)
		if c == nil || k == nil {
			return []any{true}
		}
		pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(c.PublicKey) {
			return []any{nil, msg}
		}
		return []any{true}
	}
}

// certAltType is certificates' check that the alternative certificate has
// another key type.
func certAltType(args ...any) []any {
	e, _ := firstArg(args).(map[string]any)
	cs, _ := e["cert"].(string)
	as, _ := e["cert_alt"].(string)
	c, a := parseCert(cs), parseCert(as)
	if c == nil || a == nil {
		return []any{true}
	}
	if c.PublicKeyAlgorithm == a.PublicKeyAlgorithm {
		return []any{nil, "certificate and alternative certificate need to have " +
			"different type (e.g. RSA and ECDSA), the provided certificates were both of the same type"}
	}
	return []any{true}
}
