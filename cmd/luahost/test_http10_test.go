package main

import (
	"strings"
	"testing"
)

// The spec client's version = 1.0 sends an HTTP/1.0 request, to the mock
// upstream and through the proxy.
func TestSpecHelpersHTTP10(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/http10_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
