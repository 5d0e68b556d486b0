package router

import "strings"

// Path normalisation as Kong does before routing (kong/tools/uri.lua
// normalize, called with merge_slashes = true by utils.strip_uri_args):
//
//  1. every %XX triplet is decoded, except the RFC 3986 reserved characters
//     !*'();:@&=+$,/?%#[] whose triplets are only upper-cased (%2f -> %2F);
//  2. dot segments are removed (RFC 3986 5.2.4, so /%2e%2e/ is /../) and runs
//     of slashes are merged.
//
// The result is what routes match against, what regex captures come from and
// what the upstream URI is built from.

// isReserved reports the RFC 3986 reserved characters Kong keeps encoded.
func isReserved(c byte) bool {
	return strings.IndexByte("!*'();:@&=+$,/?%#[]", c) >= 0
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// StripQuery drops the query string: everything from the first '?' found
// after the first byte (utils.lua strip_uri_args searches from position 2).
func StripQuery(uri string) string {
	if len(uri) > 1 {
		if i := strings.IndexByte(uri[1:], '?'); i >= 0 {
			return uri[:i+1]
		}
	}
	return uri
}

// NormalizePath is Kong's uri.normalize(path, true). It allocates only when
// the path changes.
func NormalizePath(uri string) string {
	if uri == "" || uri == "/" {
		return uri
	}
	if strings.IndexByte(uri, '%') >= 0 {
		uri = percentDecode(uri)
	}
	if strings.IndexByte(uri, '.') < 0 && !strings.Contains(uri, "//") {
		return uri
	}
	return removeDotSegments(uri)
}

// percentDecode decodes the triplets of unreserved and "other" characters and
// upper-cases those of reserved ones.
func percentDecode(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' || i+2 >= len(s) {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s))
			b = append(b, s[:i]...)
		}
		v := hi<<4 | lo
		if isReserved(v) {
			b = append(b, '%', upperHex(s[i+1]), upperHex(s[i+2]))
		} else {
			b = append(b, v)
		}
		i += 2
	}
	if b == nil {
		return s
	}
	return string(b)
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// removeDotSegments is RFC 3986 section 5.2.4 with one addition: a run of
// slashes counts as one. The output is kept as a stack of segments, each with
// its leading slash (or without one, for a relative first segment).
func removeDotSegments(in string) string {
	var stack [32]string
	segs := stack[:0]
	for len(in) > 0 {
		switch {
		case in == "/.":
			in = "/"
		case in == "/..":
			in = "/"
			segs = popSeg(segs)
		case in == "." || in == "..":
			in = ""
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			segs = popSeg(segs)
		case strings.HasPrefix(in, "//"):
			in = in[1:]
		default:
			end := len(in)
			if j := strings.IndexByte(in[1:], '/'); j >= 0 {
				end = j + 1
			}
			segs = append(segs, in[:end])
			in = in[end:]
		}
	}
	switch len(segs) {
	case 0:
		return ""
	case 1:
		return segs[0]
	}
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range segs {
		b.WriteString(s)
	}
	return b.String()
}

// EscapeURI is Kong's uri.escape: what the proxy sets as $upstream_uri from
// Match.UpstreamURI. Every byte outside A-Z a-z 0-9 -_.~ and the reserved
// characters !#$&'()*+,/:;=?@[] (and '%' itself) becomes %XX.
func EscapeURI(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if !uriSafe(s[i]) {
			break
		}
	}
	if i == len(s) {
		return s
	}
	const hexdig = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if uriSafe(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexdig[c>>4], hexdig[c&15])
		}
	}
	return string(b)
}

func popSeg(segs []string) []string {
	if len(segs) > 0 {
		return segs[:len(segs)-1]
	}
	return segs
}

func uriSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&'()*+,/:;=?@[]-_.~%", c) >= 0
}
