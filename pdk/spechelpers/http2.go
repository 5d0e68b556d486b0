package spechelpers

import (
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// h2Request is http2_client's one request (Kong's runs its bin/h2client
// tool): h2_request(url, headers, body, timeout_ms, http1) -> status,
// headers (lower-case names, repeats joined with ", "), body | nil, err.
// Pseudo-headers in headers set the request's method (:method), path
// (:path, appended to url's) and host (:authority); :scheme is the url's.
// Cleartext is HTTP/2 with prior knowledge (h2c), TLS verifies nothing;
// http1 speaks HTTP/1.1 instead. A body makes it a POST, as h2client's
// -post.
func h2Request(L *lua.LState) int {
	url := L.CheckString(1)
	var body io.Reader
	method := http.MethodGet
	if s, ok := L.Get(3).(lua.LString); ok {
		body = strings.NewReader(string(s))
		method = http.MethodPost
	}
	timeout := 60 * time.Second
	if ms := L.OptInt(4, 0); ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	protos := new(http.Protocols)
	if L.ToBool(5) {
		protos.SetHTTP1(true)
	} else {
		protos.SetHTTP2(true)
		protos.SetUnencryptedHTTP2(true)
	}
	headers := map[string]string{}
	if t, ok := L.Get(2).(*lua.LTable); ok {
		// Kong's runs h2client through a shell, which removes the
		// headers' quotes
		t.ForEach(func(k, v lua.LValue) { headers[shellUnquote(k.String())] = shellUnquote(v.String()) })
	}
	if m, ok := headers[":method"]; ok {
		method = m
	}
	if p, ok := headers[":path"]; ok {
		url += p
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	for k, v := range headers {
		switch {
		case k == ":authority":
			req.Host = v
		case strings.HasPrefix(k, ":"):
		case strings.EqualFold(k, "host"):
			req.Host = v
		default:
			req.Header.Set(k, v)
		}
	}
	tr := &http.Transport{Protocols: protos, ForceAttemptHTTP2: !L.ToBool(5),
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // Kong's h2client runs with -skip-verify
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Timeout: timeout, Transport: tr}).Do(req)
	b, h, ok := responseToLua(L, res, err, true)
	if !ok {
		return 2
	}
	L.Push(lua.LNumber(res.StatusCode))
	L.Push(h)
	L.Push(lua.LString(b))
	L.Push(lua.LString(strconv.Itoa(res.ProtoMajor)))
	return 4
}

// shellUnquote is s after a POSIX shell's quote removal: '...' literal,
// "..." with \ escaping $ ` " \, a backslash outside quotes escaping the
// byte after it. What a shell would also do to s (split it at blanks,
// expand $) is left out: s stays one word.
func shellUnquote(s string) string {
	if !strings.ContainsAny(s, `'"\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				return b.String()
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
