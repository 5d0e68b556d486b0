package router

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the router pure Go and standalone: no Lua, and none
// of luahost's other packages but pcre, the regex compiler it shares with
// ngx.re (tests may use kongdb).
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Split(string(out), "\n") {
		if strings.Contains(dep, "gopher-lua") ||
			(strings.HasPrefix(dep, "github.com/luahost/luahost/") && dep != "github.com/luahost/luahost/router" && dep != "github.com/luahost/luahost/pcre") {
			t.Errorf("router depends on %s", dep)
		}
	}
}
