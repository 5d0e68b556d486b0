package kongdb

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoLua keeps the data layer free of Lua (../shared/DESIGN.md).
func TestNoLua(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Split(string(out), "\n") {
		if strings.Contains(dep, "gopher-lua") {
			t.Fatalf("kongdb depends on %s", dep)
		}
	}
}
