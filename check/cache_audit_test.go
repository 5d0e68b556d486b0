package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyPlugin copies a fixture plugin into a temporary plugins dir, with
// some files replaced.
func copyPlugin(t *testing.T, from, name string, replace map[string]string) string {
	t.Helper()
	root := t.TempDir()
	dst := filepath.Join(root, name)
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, text := range replace {
		if err := os.WriteFile(filepath.Join(dst, rel), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// The key is followed through locals wherever they are assigned (inside a
// local function, a function stored in a table); a key from
// dao:cache_key, or one the plugin invalidates itself from a crud
// handler, is not reported.
func TestCacheKeyAuditFollowsLocals(t *testing.T) {
	handler := func(body string) map[string]string {
		return map[string]string{"handler.lua": "local H = { PRIORITY = 1000, VERSION = \"1.0.0\" }\n" + body + "\nreturn H\n"}
	}
	for _, c := range []struct {
		name, body string
		want       int // findings
	}{
		{"local function", `
local function load(name) return kong.db.handkey_items:select_by_name(name) end
local function lookup(name)
  local key = string.format("handkey_items:%s", name)
  return kong.cache:get(key, nil, load, name)
end
function H:access() lookup("x") end`, 1},
		{"table field function", `
local cache = kong.cache
H.lookup = function(name)
  local key = "handkey_items:" .. name
  return cache:get(key, nil, function() return kong.db.handkey_items:select_by_name(name) end)
end`, 1},
		{"dao cache_key", `
local function lookup(item)
  local key = kong.db.handkey_items:cache_key(item)
  return kong.cache:get(key, nil, function() return item end)
end
H.lookup = lookup`, 0},
		{"own crud handler", `
function H:init_worker()
  kong.worker_events.register(function(data)
    kong.cache:invalidate("handkey_items:" .. data.entity.name)
  end, "crud", "handkey_items")
end
function H:access()
  return kong.cache:get("handkey_items:x", nil, function() return kong.db.handkey_items:select_by_name("x") end)
end`, 0},
		{"remote value", `
function H:access()
  return kong.cache:get("introspection:" .. kong.request.get_header("token"), nil, function() return "ok" end)
end`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyPlugin(t, "testdata/lint/handkey", "handkey", handler(c.body))
			rep := runCheck(t, Options{Conf: confFor(dir)})
			n := 0
			for _, f := range rep.Findings {
				if f.Code == "cache-key-never-invalidated" {
					n++
					if !strings.Contains(f.Message, "handkey_items") {
						t.Errorf("message: %s", f.Message)
					}
				}
			}
			if n != c.want {
				t.Errorf("%d finding(s), want %d: %v", n, c.want, rep.Findings)
			}
		})
	}
}
