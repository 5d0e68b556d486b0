package admin

import "testing"

// A JSON body's empty object for an array or set field is an empty array
// (Kong decodes {} and [] alike to an empty Lua table): a PATCH clearing
// methods and paths with {} answers 200 with [] for both.
func TestPatchEmptyTables(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		r := n.must(201, "POST", "/routes", M{"paths": []string{"/my-route"}})
		got := n.must(200, "PATCH", "/routes/"+str(r["id"]), M{"methods": M{}, "paths": M{}, "hosts": []string{"my-updated.tld"}})
		for _, k := range []string{"methods", "paths"} {
			if a, ok := got[k].([]any); !ok || len(a) != 0 {
				t.Fatalf("%s: %#v", k, got[k])
			}
		}
	})
}
