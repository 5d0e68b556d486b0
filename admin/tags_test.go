package admin

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// /tags and /tags/{tag} page as Kong's tags DAO does: every (tag, entity)
// pair across entity types, by entity_id then the tag's position, size
// rows a page with offset and next until next is null; a bad offset, a
// bad size and a tag that is not valid UTF-8 get Kong's errors.
func TestTagsPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		want := map[string]bool{}
		for i := 0; i < 3; i++ {
			c := n.must(201, "POST", "/consumers", M{"username": fmt.Sprintf("tagged-%d", i), "tags": []string{"corp a", fmt.Sprintf("consumer %d", i)}})
			want[fmt.Sprintf("corp a consumers %s", c["id"])] = true
			want[fmt.Sprintf("consumer %d consumers %s", i, c["id"])] = true
		}
		sv := n.must(201, "POST", "/services", M{"name": "tagged-svc", "host": "x.test", "tags": []string{"corp a"}})
		want[fmt.Sprintf("corp a services %s", sv["id"])] = true
		n.must(201, "POST", "/consumers", M{"username": "untagged"})

		// follow next from path; every page but the last is full
		walk := func(path string, size int) ([]string, []string) {
			var got, ids []string
			for path != "" {
				page := n.must(200, "GET", path, nil)
				d := data(page)
				next, _ := page["next"].(string)
				if next != "" {
					if len(d) != size {
						t.Fatalf("%s: a page of %d, want %d: %v", path, len(d), size, page)
					}
					if page["offset"] == nil || !strings.Contains(next, "offset="+url.QueryEscape(str(page["offset"]))) &&
						!strings.Contains(next, "offset="+strings.ReplaceAll(url.QueryEscape(str(page["offset"])), "+", "%20")) {
						t.Fatalf("next %q and offset %v", next, page["offset"])
					}
				} else if page["next"] != nil {
					t.Fatalf("last page: next %v", page["next"])
				}
				for _, e := range d {
					m := e.(map[string]any)
					got = append(got, fmt.Sprintf("%s %s %s", m["tag"], m["entity_name"], m["entity_id"]))
					ids = append(ids, str(m["entity_id"]))
				}
				path = next
			}
			return got, ids
		}
		got, ids := walk("/tags?size=2", 2)
		if len(got) != len(want) {
			t.Fatalf("/tags: %d rows %q, want %d", len(got), got, len(want))
		}
		for _, g := range got {
			if !want[g] {
				t.Errorf("/tags: unexpected %q", g)
			}
		}
		if !sort.StringsAreSorted(ids) {
			t.Errorf("/tags: not ordered by entity_id: %q", ids)
		}
		// an entity's tags in the order it lists them
		for i := 0; i+1 < len(got); i++ {
			if ids[i] == ids[i+1] && !strings.HasPrefix(got[i], "corp a") {
				t.Errorf("/tags: tags of %s out of order: %q", ids[i], got[i:i+2])
			}
		}
		one, _ := walk("/tags/corp%20a?size=1", 1)
		if len(one) != 4 {
			t.Errorf("/tags/corp a: %q", one)
		}
		all := n.must(200, "GET", "/tags", nil)
		if len(data(all)) != len(want) || all["next"] != nil || all["offset"] != nil {
			t.Errorf("/tags in one page: %v", all)
		}
		if none := n.must(200, "GET", "/tags/does-not-exist", nil); len(data(none)) != 0 || none["next"] != nil {
			t.Errorf("unknown tag: %v", none)
		}
		bad := n.must(400, "GET", "/tags?offset="+base64.RawStdEncoding.EncodeToString([]byte("nope")), nil)
		if !strings.Contains(str(bad["message"]), "is not a valid offset: bad json encoding") {
			t.Errorf("bad offset: %v", bad)
		}
		if bad := n.must(400, "GET", "/tags?size=0", nil); !strings.Contains(str(bad["message"]), "size must be an integer between 1 and") {
			t.Errorf("bad size: %v", bad)
		}
		if bad := n.must(400, "GET", "/tags/%FF", nil); !strings.Contains(str(bad["message"]), "invalid utf-8") {
			t.Errorf("bad tag: %v", bad)
		}
	})
}
