package router

import "testing"

// Expected values follow kong/tools/uri.lua normalize(uri, true) and the
// cases of Kong's spec/01-unit/05-utils_spec.lua / 08-router_spec.lua that
// exercise it (the router path handling fixture lines 78-113 go through it
// too).
func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"/":                   "/",
		"/a/b":                "/a/b",
		"/a/./b":              "/a/b",
		"/a/../b":             "/b",
		"/../b":               "/b",
		"/a/b/..":             "/a/",
		"/a/b/.":              "/a/b/",
		"/a//b///c":           "/a/b/c",
		"//":                  "/",
		"/%2e%2E/x":           "/x",
		"/route%2E/req":       "/route./req",
		"/a%2fb":              "/a%2Fb",
		"/a%2Fb":              "/a%2Fb",
		"/%7Euser":            "/~user",
		"/%41%42":             "/AB",
		"/%20x":               "/ x",
		"/%zz":                "/%zz",
		"/%4":                 "/%4",
		"/a%3fb":              "/a%3Fb",
		"/users/%6aohn%20doe": "/users/john doe",
		"/a/b/../../..":       "/",
		"/.":                  "/",
		"/..":                 "/",
		"/a.b/c..d/.e":        "/a.b/c..d/.e",
	} {
		if got := NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStripQuery(t *testing.T) {
	for in, want := range map[string]string{
		"/a?b=c": "/a", "/a": "/a", "?x": "?x", "/?": "/", "/a?b?c": "/a",
	} {
		if got := StripQuery(in); got != want {
			t.Errorf("StripQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

// uri.lua escape: what goes into $upstream_uri.
func TestEscapeURI(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b":                   "/a/b",
		"/john doe":              "/john%20doe",
		`/123"`:                  "/123%22",
		"/é":                     "/%C3%A9",
		"/a%2Fb":                 "/a%2Fb",
		"/!#$&'()*+,:;=?@[]~-_.": "/!#$&'()*+,:;=?@[]~-_.",
		"/<>{}|\\^`":             "/%3C%3E%7B%7D%7C%5C%5E%60",
	} {
		if got := EscapeURI(in); got != want {
			t.Errorf("EscapeURI(%q) = %q, want %q", in, got, want)
		}
	}
}
