package schema

import (
	"strconv"
	"strings"
)

// String validators of Kong's typedefs: names, tags, header and cookie
// names, paths, router paths and URLs.

func isASCIIAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// validateUTF8 is kong.tools.string.validate_utf8: ok, or the 1-based
// position of the first byte that does not start a sequence Kong accepts.
// Kong's two-byte rule takes a continuation byte from 123 to 191, and so
// does this.
func validateUTF8(s string) (bool, int) {
	in := func(c byte, lo, hi byte) bool { return c >= lo && c <= hi }
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0xff // never a continuation byte
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c <= 127:
			i++
		case in(c, 194, 223) && in(at(i+1), 123, 191):
			i += 2
		case c == 224 && in(at(i+1), 160, 191) && in(at(i+2), 128, 191),
			in(c, 225, 236) && in(at(i+1), 128, 191) && in(at(i+2), 128, 191),
			c == 237 && in(at(i+1), 128, 159) && in(at(i+2), 128, 191),
			in(c, 238, 239) && in(at(i+1), 128, 191) && in(at(i+2), 128, 191):
			i += 3
		case c == 240 && in(at(i+1), 144, 191) && in(at(i+2), 128, 191) && in(at(i+3), 128, 191),
			in(c, 241, 243) && in(at(i+1), 128, 191) && in(at(i+2), 128, 191) && in(at(i+3), 128, 191),
			c == 244 && in(at(i+1), 128, 143) && in(at(i+2), 128, 191) && in(at(i+3), 128, 191):
			i += 4
		default:
			return false, i + 1
		}
	}
	return true, 0
}

func validUTF8String(s string) (bool, string) {
	if ok, pos := validateUTF8(s); !ok {
		return false, "invalid utf-8 character sequence detected at position " + strconv.Itoa(pos)
	}
	return true, ""
}

func validName(s string) (bool, string) {
	ok := s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = isASCIIAlnum(c) || c == '.' || c == '-' || c == '_' || c == '~'
	}
	if !ok {
		return false, "invalid value '" + s + "': it must only contain alphanumeric and '., -, _, ~' characters"
	}
	return true, ""
}

func validUTF8Name(s string) (bool, string) {
	if ok, msg := validUTF8String(s); !ok {
		return false, msg
	}
	ok := s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = isASCIIAlnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || (c >= 128 && c <= 244)
	}
	if !ok {
		return false, "invalid value '" + s + "': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
	}
	return true, ""
}

func validTag(s string) (bool, string) {
	if ok, msg := validUTF8String(s); !ok {
		return false, msg
	}
	ok := s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = (c >= 32 && c <= 126 && c != ',' && c != '/') || (c >= 128 && c <= 244)
	}
	if !ok {
		return false, "invalid tag '" + s + "': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"
	}
	return true, ""
}

// ValidateName is Kong's check of a header (or, in 2.x, cookie) name: ""
// when name is made of A-Z, a-z, 0-9, '_' and '-', else the message naming
// kind ("header": kong.tools.http.validate_header_name).
func ValidateName(kind, name string) string {
	if name == "" {
		return "no " + kind + " name provided"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isASCIIAlnum(c) && c != '-' && c != '_' {
			return "bad " + kind + " name '" + name + "', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
		}
	}
	return ""
}

// ValidateHTTPToken is kong.tools.http.validate_http_token (an RFC 2616
// token; Kong 3's validate_cookie_name): "" when valid, else the message.
func ValidateHTTPToken(token string) string {
	if token == "" {
		return "no token provided"
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c < 32 || c >= 127 || strings.IndexByte(" \t()<>@,;:\\\"/?={}[]", c) >= 0 {
			return "contains one or more invalid characters. ASCII control characters (0-31;127), " +
				"space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed."
		}
	}
	return ""
}

func validHeaderName(s string) (bool, string) { return msgOK(ValidateName("header", s)) }

func validCookieName(s string) (bool, string) { return msgOK(ValidateHTTPToken(s)) }

func msgOK(msg string) (bool, string) { return msg == "", msg }

func isPathChar(c byte) bool {
	return isASCIIAlnum(c) || strings.IndexByte(".-_~/%:@!$&'()*+,;=", c) >= 0
}

// checkPath is typedefs' validate_path; code is "rfc3986" or "percent" on
// failure.
func checkPath(p string) (ok bool, msg, code string) {
	good := strings.HasPrefix(p, "/")
	for i := 1; good && i < len(p); i++ {
		good = isPathChar(p[i])
	}
	if !good {
		return false, "invalid path: '" + p + "' (characters outside of the reserved list of RFC 3986 found)", "rfc3986"
	}
	// every "%" must start a %XX triplet; Kong replaces the valid ones and
	// reports the first "%" left with up to two following characters.
	raw := []byte(p)
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) && isXDigit(raw[i+1]) && isXDigit(raw[i+2]) {
			raw[i], raw[i+1], raw[i+2] = '_', '_', '_'
			i += 2
		}
	}
	if i := strings.IndexByte(string(raw), '%'); i >= 0 {
		end := min(i+3, len(raw))
		return false, "invalid url-encoded value: '" + string(raw[i:end]) + "'", "percent"
	}
	return true, "", ""
}

func validPath(p string) (bool, string) {
	ok, msg, _ := checkPath(p)
	return ok, msg
}

// validRouterPath checks a routes.paths entry: a normalized prefix path,
// or "~" and a regex the router can compile.
func validRouterPath(p string) (bool, string) {
	if ok, msg, code := checkPath(p); !ok && code == "percent" {
		return false, msg
	}
	if !strings.HasPrefix(p, "~") {
		if n := normalizeURI(p, true); n != p {
			return false, "non-normalized path, consider use '" + n + "' instead"
		}
		return true, ""
	}
	re := p[1:]
	if !isValidRegex(re) {
		return false, "invalid regex: '" + re + "' (PCRE returned: " + pcreErrorText(re) + ")"
	}
	return true, ""
}

// validPathWithRegexes checks a Kong ≤ 2.8 routes.paths entry
// (typedefs.paths): bad percent-encoding fails; a path of the characters
// the 2.x router takes literally passes; anything else is a regex that
// must compile.
func validPathWithRegexes(p string) (bool, string) {
	if ok, msg, code := checkPath(p); !ok && code == "percent" {
		return false, msg
	}
	literal := true
	for i := 0; literal && i < len(p); i++ {
		c := p[i]
		literal = isASCIIAlnum(c) || strings.IndexByte(".-_~/%", c) >= 0
	}
	if literal {
		return true, ""
	}
	if !isValidRegex(p) {
		return false, "invalid regex: '" + p + "' (PCRE returned: " + pcreErrorText(p) + ")"
	}
	return true, ""
}

// pcreErrorText words a compile error of re as OpenResty reports PCRE2's;
// Go's regexp stands in for PCRE, so only unbalanced parentheses carry
// PCRE2's own wording.
func pcreErrorText(re string) string {
	msg := "compilation failed"
	depth := 0
	for i := 0; i < len(re); i++ {
		switch re[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth < 0 {
			msg = "unmatched closing parenthesis"
			break
		}
	}
	if depth > 0 {
		msg = "missing closing parenthesis"
	}
	return "pcre2_compile() failed: " + msg + " in \"" + re + "\""
}

// uriReserved are the characters normalize keeps percent-encoded.
const uriReserved = "!*'();:@&=+$,/?%#[]"

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// normalizeURI is kong.tools.uri.normalize: decodes %XX triplets of
// characters that are not reserved (upper-casing the others), removes dot
// segments and, with mergeSlashes, merges repeated slashes.
func normalizeURI(uri string, mergeSlashes bool) string {
	if uri == "" || uri == "/" {
		return uri
	}
	if strings.IndexByte(uri, '%') >= 0 {
		var b strings.Builder
		for i := 0; i < len(uri); i++ {
			if uri[i] == '%' && i+2 < len(uri) && isXDigit(uri[i+1]) && isXDigit(uri[i+2]) {
				c := unhex(uri[i+1])<<4 | unhex(uri[i+2])
				if strings.IndexByte(uriReserved, c) < 0 {
					b.WriteByte(c)
				} else {
					b.WriteString(strings.ToUpper(uri[i : i+3]))
				}
				i += 2
				continue
			}
			b.WriteByte(uri[i])
		}
		uri = b.String()
	}
	if !strings.Contains(uri, ".") && (!mergeSlashes || !strings.Contains(uri, "//")) {
		return uri
	}
	var out []string
	for len(uri) > 0 {
		switch {
		case uri == "/.":
			uri = "/"
		case uri == "/..":
			uri = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case uri == "." || uri == "..":
			uri = ""
		case strings.HasPrefix(uri, "../"):
			uri = uri[3:]
		case strings.HasPrefix(uri, "./"):
			uri = uri[2:]
		case strings.HasPrefix(uri, "/./"):
			uri = uri[2:]
		case strings.HasPrefix(uri, "/../"):
			uri = uri[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case mergeSlashes && strings.HasPrefix(uri, "//"):
			uri = uri[1:]
		default:
			if i := strings.IndexByte(uri[1:], '/'); i >= 0 {
				out = append(out, uri[:i+1])
				uri = uri[i+1:]
			} else {
				out = append(out, uri)
				uri = ""
			}
		}
	}
	return strings.Join(out, "")
}

// parsedURL holds what LuaSocket's url.parse finds that Kong checks.
type parsedURL struct {
	scheme, host string
	hasScheme    bool
	hasHost      bool
}

// parseSocketURL follows LuaSocket's socket.url.parse far enough to tell
// whether a scheme and a host were found.
func parseSocketURL(u string) (parsedURL, string) {
	var r parsedURL
	if u == "" {
		return r, "invalid url"
	}
	// fragment: #(.*)$ goes first
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	// scheme: ^([%w][%w%+%-%.]*)%:
	if len(u) > 0 && isASCIIAlnum(u[0]) {
		i := 1
		for i < len(u) && (isASCIIAlnum(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.') {
			i++
		}
		if i < len(u) && u[i] == ':' {
			r.scheme, r.hasScheme = u[:i], true
			u = u[i+1:]
		}
	}
	// authority: ^//([^/]*) (query and params are cut from what follows it)
	if !strings.HasPrefix(u, "//") {
		return r, ""
	}
	authority := u[2:]
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority = authority[:i]
	}
	if i := strings.IndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	// port: :([^:%]]*)$
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i+1:], "]") {
		authority = authority[:i]
	}
	if authority != "" {
		r.host, r.hasHost = authority, true
		if len(authority) > 2 && authority[0] == '[' && authority[len(authority)-1] == ']' {
			r.host = authority[1 : len(authority)-1]
		}
	}
	return r, ""
}

func validURL(u string) (bool, string) {
	p, err := parseSocketURL(u)
	if err != "" {
		return false, "could not parse url. " + err
	}
	if !p.hasHost {
		return false, "missing host in url"
	}
	if !p.hasScheme {
		return false, "missing scheme in url"
	}
	return true, ""
}
