package host

import (
	"context"
	"testing"
)

// BenchmarkLegacyDAOLookup: one credential lookup by its unique key among
// 1000 rows on the memory store, through the 0.x DAO's find_by_keys (seed
// 003's call) and through kong.db's select_by_apikey, side by side; and a
// find_all on a field that is neither unique nor a foreign key (a scan).
func BenchmarkLegacyDAOLookup(b *testing.B) {
	h, err := New(Options{Conf: testConf(b, "../plugins"), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	err = h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		return w.DoString("setup.lua", `
local c = assert(kong.db.consumers:insert({ username = "bench" }))
for i = 1, 1000 do
  assert(kong.db.apikeys:insert({ consumer = { id = c.id }, apikey = "key" .. i }))
end
local dao = require("kong.singletons").dao
function bench_old() local rows = dao.apikeys:find_by_keys({ apikey = "key500" }) assert(#rows == 1) end
function bench_new() assert(kong.db.apikeys:select_by_apikey("key500")) end
function bench_scan() local rows = dao.apikeys:find_all({ created_at = 0 }) assert(#rows == 0) end
`)
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"bench_new", "bench_old", "bench_scan"} {
		b.Run(name[len("bench_"):], func(b *testing.B) {
			b.ReportAllocs()
			err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
				fn := w.L.GetGlobal(name)
				for b.Loop() {
					if err := w.call(fn, 0); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
