package host

import (
	"strings"
	"testing"
)

// A hooks.lua that fails to load fails the host's start, naming the plugin
// and the file, as a broken handler.lua does.
func TestLegacyHooksLoadError(t *testing.T) {
	_, err := New(Options{Conf: testConf(t, "testdata/legacy-badhooks"), Logger: quietLogger()})
	if err == nil {
		t.Fatal("a host with a broken hooks.lua started")
	}
	for _, want := range []string{"legacy-badhooks", "hooks.lua:3", "hooks exploded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
