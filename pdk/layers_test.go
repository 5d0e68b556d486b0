package pdk

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers keeps pdk's shape (DESIGN.md, "pdk's shape"): the binding
// packages (bind, ngx, lib/...) never import pdk, so that pdk can list
// them all in Root.Open; nothing under pdk reaches into host.
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/luahost/luahost/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, deps := strings.TrimPrefix(f[0], mod), f[1:]
		binding := pkg == "pdk/bind" || pkg == "pdk/ngx" || strings.HasPrefix(pkg, "pdk/lib/")
		for _, d := range deps {
			switch {
			case d == mod+"host" || strings.HasPrefix(d, mod+"host/"):
				t.Errorf("%s depends on %s", pkg, d)
			case binding && d == mod+"pdk":
				t.Errorf("%s, a binding package, depends on pdk: take what it needs as arguments of its Open", pkg)
			}
		}
	}
}
