package kongdb

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

// CoreSchemas returns fresh copies of the core entities luahost keeps, in
// Kong's CORE_ENTITIES order (KONG-REFERENCE §1.11): workspaces,
// consumers, certificates, services, routes, snis, upstreams, targets,
// plugins, tags, ca_certificates.
func CoreSchemas() []*schema.Schema {
	return []*schema.Schema{
		WorkspacesSchema(), ConsumersSchema(), CertificatesSchema(), ServicesSchema(), RoutesSchema(),
		SnisSchema(), UpstreamsSchema(), TargetsSchema(),
		PluginsSchema(), TagsSchema(), CACertificatesSchema(), ParametersSchema(),
	}
}

// ParametersSchema is Kong's parameters entity: node-wide key/value rows
// (the cluster id kong.cluster.get_id reads), with no Admin API. Kong
// leaves db_export at its default; luahost keeps it out of declarative
// configurations, where Kong's DB-less nodes have no such row either.
func ParametersSchema() *schema.Schema {
	return &schema.Schema{
		Name: "parameters", PrimaryKey: []string{"key"}, CacheKey: []string{"key"},
		Fields: []*schema.Field{
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "key", Type: schema.TypeString, Required: true, RequiredSet: true, Unique: true},
			{Name: "value", Type: schema.TypeString, Required: true, RequiredSet: true},
		},
	}
}

// WorkspacesSchema is Kong's workspaces entity.
func WorkspacesSchema() *schema.Schema {
	name := fUTF8Name("name")
	name.Required, name.RequiredSet = true, true
	name.NotOneOf = strings2any("workspaces", "consumers", "certificates", "services", "routes",
		"snis", "upstreams", "targets", "plugins", "tags", "ca_certificates",
		"clustering_data_planes", "parameters", "vaults", "key_sets", "keys", "filter_chains")
	return &schema.Schema{
		Name: "workspaces", PrimaryKey: []string{"id"}, CacheKey: []string{"name"},
		EndpointKey: "name", DAO: "kong.db.dao.workspaces", DBExport: true,
		Fields: []*schema.Field{
			fUUID(), name,
			{Name: "comment", Type: schema.TypeString},
			fTimestamp("created_at"), fTimestamp("updated_at"),
			{Name: "meta", Type: schema.TypeRecord, Required: true, Fields: []*schema.Field{}},
			{Name: "config", Type: schema.TypeRecord, Required: true, Fields: []*schema.Field{}},
		},
	}
}

// ConsumersSchema is Kong's consumers entity.
func ConsumersSchema() *schema.Schema {
	return &schema.Schema{
		Name: "consumers", PrimaryKey: []string{"id"}, EndpointKey: "username",
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), fTimestamp("created_at"), fTimestamp("updated_at"),
			{Name: "username", Type: schema.TypeString, Unique: true},
			{Name: "custom_id", Type: schema.TypeString, Unique: true},
			fTags(),
		},
		EntityChecks: []schema.EntityCheck{
			{Name: "at_least_one_of", Arg: strings2any("custom_id", "username")},
		},
	}
}

func conditional(ifField string, ifMatch map[string]any, thenField string, thenMatch map[string]any) schema.EntityCheck {
	return schema.EntityCheck{Name: "conditional", Arg: map[string]any{
		"if_field": ifField, "if_match": ifMatch, "then_field": thenField, "then_match": thenMatch,
	}}
}

// ServicesSchema is Kong's services entity, with its url shorthand.
func ServicesSchema() *schema.Schema {
	timeout := func(name string) *schema.Field { return fInt(name, 60000, 1, 2147483646) }
	notTLS := map[string]any{"not_one_of": strings2any("https", "tls")}
	isNull := map[string]any{"eq": schema.Null}
	return &schema.Schema{
		Name: "services", PrimaryKey: []string{"id"}, EndpointKey: "name",
		Workspaceable: true, DAO: "kong.db.dao.services", DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), fTimestamp("created_at"), fTimestamp("updated_at"),
			fUTF8Name("name"),
			fInt("retries", 5, 0, 32767),
			{Name: "protocol", Type: schema.TypeString, Required: true, RequiredSet: true, Default: "http", HasDefault: true,
				OneOf: strings2any("grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp")},
			{Name: "host", Type: schema.TypeString, Required: true, RequiredSet: true, CustomValidator: builtin("host")},
			{Name: "port", Type: schema.TypeInteger, Required: true, RequiredSet: true, Default: float64(80), HasDefault: true, Between: &[2]float64{0, 65535}},
			{Name: "path", Type: schema.TypeString, StartsWith: ptr("/"), CustomValidator: builtin("path")},
			timeout("connect_timeout"), timeout("write_timeout"), timeout("read_timeout"),
			fTags(),
			fForeign("client_certificate", "certificates", "", false),
			{Name: "tls_verify", Type: schema.TypeBoolean},
			{Name: "tls_verify_depth", Type: schema.TypeInteger, Default: schema.Null, HasDefault: true, Between: &[2]float64{0, 64}},
			{Name: "ca_certificates", Type: schema.TypeArray, Elements: &schema.Field{Type: schema.TypeString, UUID: true}},
			fBool("enabled", true),
		},
		ShorthandFields: []*schema.ShorthandField{{
			Field: &schema.Field{Name: "url", Type: schema.TypeString},
			Func:  &schema.Func{Ref: "go:services.url", Go: serviceURLShorthand},
		}},
		EntityChecks: []schema.EntityCheck{
			conditional("protocol", map[string]any{"one_of": strings2any("tcp", "tls", "udp", "grpc", "grpcs")}, "path", isNull),
			conditional("protocol", notTLS, "client_certificate", isNull),
			conditional("protocol", notTLS, "tls_verify", isNull),
			conditional("protocol", notTLS, "tls_verify_depth", isNull),
			conditional("protocol", notTLS, "ca_certificates", isNull),
		},
	}
}

func ptr[T any](v T) *T { return &v }

// ipPort is the element of routes' sources / destinations.
func ipPort() *schema.Field {
	return &schema.Field{Type: schema.TypeRecord, Fields: []*schema.Field{
		{Name: "ip", Type: schema.TypeString, CustomValidator: builtin("ip_or_cidr")},
		{Name: "port", Type: schema.TypeInteger, Between: &[2]float64{0, 65535}},
	}, EntityChecks: []schema.EntityCheck{{Name: "at_least_one_of", Arg: strings2any("ip", "port")}}}
}

// RoutesSchema is Kong's routes entity (traditional router fields; the
// router-flavour entity checks are left to the host), with its subschemas
// keyed by protocol (routes_subschemas: what each protocol family
// requires and forbids).
func RoutesSchema() *schema.Schema {
	strSet := func(name string) *schema.Field {
		return &schema.Field{Name: name, Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}}
	}
	routes := &schema.Schema{
		Name: "routes", PrimaryKey: []string{"id"}, EndpointKey: "name",
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		SubschemaKey: "protocols",
		EntityChecks: []schema.EntityCheck{
			{Name: "conditional", Arg: map[string]any{
				"if_field": "protocols",
				"if_match": map[string]any{"elements": map[string]any{"type": "string",
					"not_one_of": strings2any("grpcs", "https", "tls", "tls_passthrough")}},
				"then_field": "snis", "then_match": map[string]any{"len_eq": float64(0)},
				"then_err": "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
			}},
		},
		Fields: []*schema.Field{
			fUUID(), fTimestamp("created_at"), fTimestamp("updated_at"),
			fUTF8Name("name"),
			fProtocols("http", "https"),
			{Name: "https_redirect_status_code", Type: schema.TypeInteger, Required: true, RequiredSet: true,
				Default: float64(426), HasDefault: true, OneOf: []any{float64(426), float64(301), float64(302), float64(307), float64(308)}},
			fBool("strip_path", true), fBool("preserve_host", false),
			fBool("request_buffering", true), fBool("response_buffering", true),
			fTags(),
			fForeign("service", "services", "", false),
			strSet("snis"),
			{Name: "sources", Type: schema.TypeSet, Elements: ipPort()},
			{Name: "destinations", Type: schema.TypeSet, Elements: ipPort()},
			strSet("methods"), strSet("hosts"), strSet("paths"),
			{Name: "headers", Type: schema.TypeMap, Keys: &schema.Field{Type: schema.TypeString},
				Values: &schema.Field{Type: schema.TypeArray, Elements: &schema.Field{Type: schema.TypeString}}},
			{Name: "regex_priority", Type: schema.TypeInteger, Default: float64(0), HasDefault: true},
			{Name: "path_handling", Type: schema.TypeString, Default: "v0", HasDefault: true, OneOf: strings2any("v0", "v1")},
		},
	}
	routes.Subschemas = routeSubschemas(routes)
	return routes
}

// routeSubschemas are the subschemas of routes by protocol: the http
// family forbids sources/destinations and needs one HTTP matching field,
// the stream family forbids HTTP fields and needs an L4 one, the grpc
// family forbids strip_path (default false), methods, sources and
// destinations.
func routeSubschemas(routes *schema.Schema) map[string]*schema.Schema {
	forbid := func(name, err string) *schema.Field {
		f := *routes.Field(name)
		f.Eq, f.HasEq, f.Err = schema.Null, true, err
		f.Required, f.RequiredSet = false, false
		return &f
	}
	atLeastOne := func(ifMatch map[string]any, fields []string, err string, elseMatch map[string]any, elseFields []string, elseErr string) schema.EntityCheck {
		arg := map[string]any{"if_field": "protocols", "if_match": ifMatch,
			"then_at_least_one_of": strings2any(fields...), "then_err": err}
		if elseMatch != nil {
			arg["else_match"] = elseMatch
			arg["else_then_at_least_one_of"] = strings2any(elseFields...)
			arg["else_then_err"] = elseErr
		}
		return schema.EntityCheck{Name: "conditional_at_least_one_of", Arg: arg}
	}
	const httpErr = "cannot set '%s' when 'protocols' is 'http' or 'https'"
	const streamErr = "cannot set '%s' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'"
	const grpcErr = "cannot set '%s' when 'protocols' is 'grpc' or 'grpcs'"
	errf := func(format, name string) string { return strings.Replace(format, "%s", name, 1) }
	http := &schema.Schema{Name: "http",
		Fields: []*schema.Field{forbid("sources", errf(httpErr, "sources")), forbid("destinations", errf(httpErr, "destinations"))},
		EntityChecks: []schema.EntityCheck{atLeastOne(
			map[string]any{"contains": "https"}, []string{"methods", "hosts", "headers", "paths", "snis"},
			"must set one of %s when 'protocols' is 'https'",
			map[string]any{"contains": "http"}, []string{"methods", "hosts", "headers", "paths"},
			"must set one of %s when 'protocols' is 'http'")},
	}
	oneOf := func(names ...string) map[string]any {
		return map[string]any{"elements": map[string]any{"type": "string", "one_of": strings2any(names...)}}
	}
	stream := &schema.Schema{Name: "tcp",
		Fields: []*schema.Field{forbid("methods", errf(streamErr, "methods")), forbid("hosts", errf(streamErr, "hosts")),
			forbid("paths", errf(streamErr, "paths")), forbid("headers", errf(streamErr, "headers"))},
		EntityChecks: []schema.EntityCheck{
			atLeastOne(oneOf("tcp", "tls", "udp"), []string{"sources", "destinations", "snis"},
				"must set one of %s when 'protocols' is 'tcp', 'tls' or 'udp'", nil, nil, ""),
			atLeastOne(oneOf("tls_passthrough"), []string{"snis"},
				"must set snis when 'protocols' is 'tls_passthrough'", nil, nil, ""),
		},
	}
	strip := *routes.Field("strip_path")
	strip.Default, strip.Ne, strip.HasNe, strip.Err = false, true, true, "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"
	grpc := &schema.Schema{Name: "grpc",
		Fields: []*schema.Field{&strip, forbid("methods", errf(grpcErr, "methods")),
			forbid("sources", errf(grpcErr, "sources")), forbid("destinations", errf(grpcErr, "destinations"))},
		EntityChecks: []schema.EntityCheck{atLeastOne(
			map[string]any{"contains": "grpcs"}, []string{"hosts", "headers", "paths", "snis"},
			"must set one of %s when 'protocols' is 'grpcs'",
			map[string]any{"contains": "grpc"}, []string{"hosts", "headers", "paths"},
			"must set one of %s when 'protocols' is 'grpc'")},
	}
	for _, sub := range []*schema.Schema{http, stream, grpc} {
		schema.FinishSubschema(routes, sub)
	}
	return map[string]*schema.Schema{
		"http": http, "https": http,
		"tcp": stream, "tls": stream, "udp": stream, "tls_passthrough": stream,
		"grpc": grpc, "grpcs": grpc,
	}
}

// PluginsSchema is Kong's plugins entity; plugin config schemas are added
// as subschemas keyed by name (DB.RegisterPluginSchema).
func PluginsSchema() *schema.Schema {
	return &schema.Schema{
		Name: "plugins", PrimaryKey: []string{"id"},
		CacheKey:      []string{"name", "route", "service", "consumer"},
		DAO:           "kong.db.dao.plugins",
		Workspaceable: true, EndpointKey: "instance_name", DBExport: true, GenerateAdminAPI: true,
		SubschemaKey:   "name",
		SubschemaError: "plugin '%s' not enabled; add it to the 'plugins' configuration property",
		Subschemas:     map[string]*schema.Schema{},
		Fields: []*schema.Field{
			fUUID(),
			{Name: "name", Type: schema.TypeString, Required: true, RequiredSet: true},
			fUTF8Name("instance_name"),
			fTimestamp("created_at"), fTimestamp("updated_at"),
			fForeign("route", "routes", "cascade", true),
			fForeign("service", "services", "cascade", true),
			fForeign("consumer", "consumers", "cascade", true),
			{Name: "config", Type: schema.TypeRecord, Abstract: true, Required: true},
			fProtocols("grpc", "grpcs", "http", "https"),
			fBool("enabled", true),
			fTags(),
		},
	}
}

// TagsSchema is Kong's tags entity (read-only in Kong: filled by triggers).
func TagsSchema() *schema.Schema {
	tag := fTag()
	tag.Name = "tag"
	id := fUUID()
	id.Name, id.Auto, id.Required, id.RequiredSet = "entity_id", false, true, true
	return &schema.Schema{
		Name: "tags", PrimaryKey: []string{"tag"}, EndpointKey: "tag", DAO: "kong.db.dao.tags",
		GenerateAdminAPI: true,
		Fields: []*schema.Field{
			tag,
			{Name: "entity_name", Type: schema.TypeString, Required: true, RequiredSet: true},
			id,
		},
	}
}

// CertificatesSchema is Kong's certificates entity: a certificate and its
// key, with an optional alternative pair of another key type. (The snis
// pseudo-attribute of Kong's certificates DAO is not kept: SNIs are written
// through /snis.)
func CertificatesSchema() *schema.Schema {
	pem := func(name, validator string, required bool) *schema.Field {
		return &schema.Field{Name: name, Type: schema.TypeString, Required: required, RequiredSet: true,
			Referenceable: true, Encrypted: validator == "key", CustomValidator: builtin(validator)}
	}
	check := func(ref string, fn func(args ...any) []any, sources ...string) schema.EntityCheck {
		return schema.EntityCheck{Name: "custom_entity_check", Arg: map[string]any{
			"field_sources": strings2any(sources...), "fn": &schema.Func{Ref: ref, Go: fn}}}
	}
	return &schema.Schema{
		Name: "certificates", PrimaryKey: []string{"id"}, DAO: "kong.db.dao.certificates",
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			fUUID(), fTimestamp("created_at"), fTimestamp("updated_at"),
			pem("cert", "certificate", true), pem("key", "key", true),
			pem("cert_alt", "certificate", false), pem("key_alt", "key", false),
			fTags(),
		},
		EntityChecks: []schema.EntityCheck{
			{Name: "mutually_required", Arg: strings2any("cert_alt", "key_alt")},
			check("go:certificates.key_match", certKeyMatch("cert", "key", "certificate does not match key"), "cert", "key"),
			check("go:certificates.alt_key_match", certKeyMatch("cert_alt", "key_alt", "alternative certificate does not match key"), "cert_alt", "key_alt"),
			check("go:certificates.alt_type", certAltType, "cert", "cert_alt"),
		},
	}
}

// serviceURLShorthand is services' `url` shorthand, as Kong 3's: the URL is
// split into protocol, host, port and path; host and path null when the
// URL lacks them; the protocol is the scheme, else "http" for port 80 and
// "https" for 443, else "http"; the port is the URL's, else 80 for http and
// 443 for https, else 80 (services.lua's default_protocol, default_port).
func serviceURLShorthand(args ...any) []any {
	raw, _ := firstArg(args).(string)
	u, err := url.Parse(raw)
	if err != nil {
		return []any{nil}
	}
	out := map[string]any{"host": schema.Null, "path": schema.Null}
	port, perr := strconv.Atoi(u.Port())
	protocol := u.Scheme
	if protocol == "" {
		switch {
		case perr == nil && port == 80:
			protocol = "http"
		case perr == nil && port == 443:
			protocol = "https"
		default:
			protocol = "http"
		}
	}
	out["protocol"] = protocol
	switch {
	case perr == nil:
		out["port"] = float64(port)
	case u.Port() != "":
		out["port"] = u.Port() // not a number: the port field says so
	case protocol == "https":
		out["port"] = float64(443)
	default:
		out["port"] = float64(80)
	}
	if h := u.Hostname(); h != "" {
		out["host"] = h
	}
	if p := u.EscapedPath(); p != "" {
		out["path"] = p
	}
	return []any{out}
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}
