package router

// Route is what Kong's routes entity carries for routing
// (kong/db/schema/entities/routes.lua). Empty slices and maps mean "not set"
// (Kong's null).
type Route struct {
	ID   string // uuid; ties between equal priorities go to the greater id
	Name string

	// Protocols defaults to {"http", "https"} when empty. Only Routes with an
	// HTTP-subsystem protocol (http, https, grpc, grpcs, ws, wss) are routed.
	Protocols []string
	Methods   []string
	// Hosts are exact ("example.com"), wildcard ("*.example.com",
	// "example.*"), each optionally with ":port".
	Hosts []string
	// Paths are prefixes ("/foo") or regexes ("~/foo/(?<id>\d+)").
	Paths []string
	// Headers maps a header name (any case; '-' and '_' are the same) to the
	// values accepted for it; a value "~*re" is a case-insensitive regex.
	Headers      map[string][]string
	SNIs         []string
	Sources      []CIDRPort
	Destinations []CIDRPort

	RegexPriority           int
	StripPath               bool
	PreserveHost            bool
	PathHandling            string // "v0" (default) or "v1"
	HTTPSRedirectStatusCode int    // 426 (default), 301, 302, 307 or 308
	// RequestBuffering and ResponseBuffering are Kong's request_buffering
	// and response_buffering. Kong's default is true for both, which
	// RouteFromRow applies; the zero value here is false.
	RequestBuffering  bool
	ResponseBuffering bool

	CreatedAt int64
	UpdatedAt int64
	ServiceID string // "" = no service
	WsID      string
	Tags      []string
}

// CIDRPort is an element of a Route's sources or destinations: an IP or a
// CIDR, a port, or both. IP "" and Port 0 mean "not set".
type CIDRPort struct {
	IP   string
	Port int
}

// Service is what Kong's services entity carries for proxying
// (kong/db/schema/entities/services.lua).
type Service struct {
	ID       string
	Name     string
	Protocol string // http, https, grpc, grpcs, ws, wss, tcp, ...
	Host     string
	Port     int    // 0 = the protocol's default (80 or 443)
	Path     string // "" = none
	// Enabled is Kong's services.enabled; nil means true (Kong's default).
	// Routes of a disabled Service are left out of the router.
	Enabled *bool

	Retries        int
	ConnectTimeout int
	WriteTimeout   int
	ReadTimeout    int
	TLSVerify      *bool
	TLSVerifyDepth *int
	CACertificates []string
	ClientCertID   string

	CreatedAt int64
	UpdatedAt int64
	WsID      string
	Tags      []string
}

// enabled is services.enabled with Kong's default.
func (s *Service) enabled() bool { return s.Enabled == nil || *s.Enabled }

// httpSubsystem is the HTTP half of Kong's constants.PROTOCOLS_WITH_SUBSYSTEM.
var httpSubsystem = map[string]bool{
	"http": true, "https": true, "grpc": true, "grpcs": true, "ws": true, "wss": true,
}

// isHTTPRoute is handler.lua should_process_route for the http subsystem.
func isHTTPRoute(r *Route) bool {
	if len(r.Protocols) == 0 {
		return true // Kong's default { "http", "https" }
	}
	for _, p := range r.Protocols {
		if httpSubsystem[p] {
			return true
		}
	}
	return false
}
