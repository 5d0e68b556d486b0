package proxy

import (
	"strings"
)

// The MIME types Kong answers errors with (kong/tools/http.lua MIME_TYPES).
const (
	mimeJSON  = "application/json; charset=utf-8"
	mimeHTML  = "text/html; charset=utf-8"
	mimeXML   = "application/xml; charset=utf-8"
	mimePlain = "text/plain; charset=utf-8"
	mimeGRPC  = ""
)

// mimeTypes is Kong's MIME_TYPES table: what an Accept media type (or its
// "type" part before "/*") selects.
var mimeTypes = map[string]string{
	"application/grpc": mimeGRPC,
	"text/html":        mimeHTML,
	"application/json": mimeJSON,
	"text/plain":       mimePlain,
	"application/xml":  mimeXML,
	"application":      mimeJSON,
	"text":             mimePlain,
}

// mimeOf is Kong's get_mime_type(media_type) with the default: the MIME
// type a media type selects, JSON when none.
func mimeOf(media string) string {
	media = strings.TrimSpace(media)
	if i := strings.IndexByte(media, ';'); i >= 0 {
		media = media[:i]
	}
	typ, sub, ok := strings.Cut(media, "/")
	if !ok {
		return mimeJSON
	}
	if i := strings.IndexByte(sub, '/'); i >= 0 {
		sub = sub[:i]
	}
	var m string
	var found bool
	if sub == "*" {
		if typ == "*" {
			return mimeJSON
		}
		m, found = mimeTypes[typ]
	} else {
		m, found = mimeTypes[media]
	}
	if !found {
		return mimeJSON
	}
	return m
}

// responseType is Kong's get_response_type(accept): for each
// comma-separated media range that parses, the one with the highest q
// (first wins ties) chooses the MIME type; JSON by default.
func responseType(accept string) string {
	ct := mimeJSON
	best := 0.0
	for accept != "" {
		var v string
		v, accept, _ = strings.Cut(accept, ",")
		media, q, ok := parseMediaRange(strings.TrimSpace(v))
		if ok && q > best {
			best = q
			ct = mimeOf(media)
		}
	}
	return ct
}

func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-!#$&^_+.", c) >= 0
}

func isTokenStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// token reads Kong's ACCEPT_PATTERN token ([a-z0-9][a-z0-9-!#$&^_+.]+,
// case-insensitive) or "*" at s[i:], returning its end or -1.
func token(s string, i int, star bool) int {
	if star && i < len(s) && s[i] == '*' {
		return i + 1
	}
	if i >= len(s) || !isTokenStart(s[i]) {
		return -1
	}
	j := i + 1
	for j < len(s) && isTokenByte(s[j]) {
		j++
	}
	if j-i < 2 {
		return -1
	}
	return j
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// parseMediaRange matches one Accept element as Kong's ACCEPT_PATTERN
// does (anchored at the start only): the media type, and its q (1 when
// absent).
func parseMediaRange(s string) (media string, q float64, ok bool) {
	e := token(s, 0, true)
	if e < 0 || e >= len(s) || s[e] != '/' {
		return "", 0, false
	}
	e = token(s, e+1, true)
	if e < 0 {
		return "", 0, false
	}
	media, q = s[:e], 1
	i := e
	for {
		j := skipSpace(s, i)
		if j >= len(s) || s[j] != ';' {
			return media, q, true
		}
		j = skipSpace(s, j+1)
		if j+1 < len(s) && (s[j] == 'q' || s[j] == 'Q') && s[j+1] == '=' {
			if v, n := parseQ(s[j+2:]); n > 0 {
				q, i = v, j+2+n
				continue
			}
		}
		k := token(s, j, false)
		if k < 0 {
			return media, q, true
		}
		if k < len(s) && s[k] == '=' {
			k++
			for k < len(s) && s[k] != ';' {
				k++
			}
		}
		i = k
	}
}

// parseQ reads 1(.0{0,3})? or 0(.\d{0,3})?; n is the length read, 0 when
// none.
func parseQ(s string) (float64, int) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, 0
	}
	n := 1
	frac, scale := 0.0, 1.0
	if len(s) > 1 && s[1] == '.' {
		n = 2
		for n < len(s) && n < 5 {
			c := s[n]
			if s[0] == '1' && c != '0' || c < '0' || c > '9' {
				break
			}
			scale /= 10
			frac += float64(c-'0') * scale
			n++
		}
	}
	return float64(s[0]-'0') + frac, n
}

// errorBody is Kong's error template for a MIME type filled with message
// and request id (kong/tools/http.lua ERROR_TEMPLATES; the message goes in
// as it is, unescaped, as Kong's string.format does).
func errorBody(mime, message, rid string) string {
	switch mime {
	case mimeHTML:
		return "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>" +
			message + ".</p>\n    <p>request_id: " + rid + "</p>\n  </body>\n</html>\n"
	case mimeXML:
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>" + message +
			"</message>\n  <requestid>" + rid + "</requestid>\n</error>\n"
	case mimePlain:
		return message + "\nrequest_id: " + rid + "\n"
	case mimeGRPC:
		return ""
	}
	return "{\n  \"message\":\"" + message + "\",\n  \"request_id\":\"" + rid + "\"\n}"
}

// nginxErrorMessages are kong/error_handlers.lua's BODIES: the message of
// an error nginx produced (malformed request, failed upstream).
var nginxErrorMessages = map[int]string{
	400: "Bad request",
	404: "Not found",
	405: "Method not allowed",
	408: "Request timeout",
	411: "Length required",
	412: "Precondition failed",
	413: "Payload too large",
	414: "URI too long",
	417: "Expectation failed",
	494: "Request header or cookie too large",
	500: "An unexpected error occurred",
	502: "An invalid response was received from the upstream server",
	503: "The upstream server is currently unavailable",
	504: "The upstream server is timing out",
}
