package pdk

import (
	"strings"
	"testing"
)

// kong.telemetry.log checks its arguments as Kong's and, with no
// OpenTelemetry logs hook, answers Kong's "disabled" message.
func TestKongTelemetryLog(t *testing.T) {
	in, _ := newShimState(t)
	cases := map[string]string{
		`return kong.telemetry.log(1, {}, "t")`:                   "nil plugin_name must be a string",
		`return kong.telemetry.log("p", "c", "t")`:                "nil plugin_config must be a table",
		`return kong.telemetry.log("p", {}, nil)`:                 "nil message_type must be a string",
		`return kong.telemetry.log("p", {}, "t", 1)`:              "nil message must be a string",
		`return kong.telemetry.log("p", {}, "t", "m", "a")`:       "nil attributes must be a table",
		`return kong.telemetry.log("p", {}, "t", nil, { a = 1 })`: "nil " + telemetryDisabled,
	}
	for src, want := range cases {
		if got := strings.Join(results(t, in, src), " "); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
