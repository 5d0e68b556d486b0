package check

// Names Kong itself owns (Kong/kong at 22246ef2, 3.10-dev): its core
// entities (kong/constants.lua CORE_ENTITIES), its bundled plugins
// (constants.lua BUNDLED_PLUGINS) and the entities their daos.lua declare.
// A plugin that reuses one clashes when both are loaded (Kong/kong#14144,
// #7160).

var coreEntities = set("workspaces", "consumers", "certificates", "services", "routes", "snis",
	"upstreams", "targets", "plugins", "tags", "ca_certificates", "clustering_data_planes",
	"parameters", "vaults", "key_sets", "keys", "filter_chains")

// coreTables are tables Kong's core migrations create besides the entities'.
var coreTables = set("cluster_events", "locks", "schema_meta", "clustering_rpc_requests",
	"clustering_sync_version", "clustering_sync_delta", "sessions_metadatas")

var bundledPlugins = set("jwt", "acl", "correlation-id", "cors", "oauth2", "tcp-log", "udp-log",
	"file-log", "http-log", "key-auth", "hmac-auth", "basic-auth", "ip-restriction",
	"request-transformer", "response-transformer", "request-size-limiting", "rate-limiting",
	"response-ratelimiting", "syslog", "loggly", "datadog", "ldap-auth", "statsd", "bot-detection",
	"aws-lambda", "request-termination", "prometheus", "proxy-cache", "session", "acme",
	"grpc-gateway", "grpc-web", "pre-function", "post-function", "azure-functions", "zipkin",
	"opentelemetry", "ai-proxy", "ai-prompt-decorator", "ai-prompt-template", "ai-prompt-guard",
	"ai-request-transformer", "ai-response-transformer", "standard-webhooks", "redirect")

// bundledEntities maps each entity of a bundled plugin to its plugin.
var bundledEntities = map[string]string{
	"acls":                          "acl",
	"acme_storage":                  "acme",
	"basicauth_credentials":         "basic-auth",
	"hmacauth_credentials":          "hmac-auth",
	"jwt_secrets":                   "jwt",
	"keyauth_credentials":           "key-auth",
	"oauth2_credentials":            "oauth2",
	"oauth2_authorization_codes":    "oauth2",
	"oauth2_tokens":                 "oauth2",
	"ratelimiting_metrics":          "rate-limiting",
	"response_ratelimiting_metrics": "response-ratelimiting",
	"sessions":                      "session",
	"session_metadatas":             "session",
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
