package host

// BundledPlugins are the plugins `plugins = bundled` names: Kong's
// BUNDLED_PLUGINS (kong/constants.lua) of the Kong version luahost
// follows (3.10, Kong/kong at 22246ef2), in Kong's order. The embedded
// kong.constants shim lists the same names (TestBundledPluginsMatchConstants).
var BundledPlugins = []string{
	"jwt", "acl", "correlation-id", "cors", "oauth2", "tcp-log", "udp-log",
	"file-log", "http-log", "key-auth", "hmac-auth", "basic-auth",
	"ip-restriction", "request-transformer", "response-transformer",
	"request-size-limiting", "rate-limiting", "response-ratelimiting",
	"syslog", "loggly", "datadog", "ldap-auth", "statsd", "bot-detection",
	"aws-lambda", "request-termination", "prometheus", "proxy-cache",
	"session", "acme", "grpc-gateway", "grpc-web", "pre-function",
	"post-function", "azure-functions", "zipkin", "opentelemetry",
	"ai-proxy", "ai-prompt-decorator", "ai-prompt-template",
	"ai-prompt-guard", "ai-request-transformer", "ai-response-transformer",
	"standard-webhooks", "redirect",
}

// IsBundled reports whether name is one of Kong's bundled plugins.
func IsBundled(name string) bool {
	for _, b := range BundledPlugins {
		if b == name {
			return true
		}
	}
	return false
}
