package balancer

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkPick is one pick and release per algorithm, over 4 targets.
func BenchmarkPick(b *testing.B) {
	for _, alg := range []string{"round-robin", "consistent-hashing", "least-connections", "latency"} {
		b.Run(alg, func(b *testing.B) {
			r := &Registry{}
			defer r.Close()
			up := upRow("u1", "up", map[string]any{"algorithm": alg})
			var ts []map[string]any
			for i := 1; i <= 4; i++ {
				ts = append(ts, tgRow("u1", "10.0.0."+strconv.Itoa(i)+":80", 100))
			}
			r.Rebuild(context.Background(), []map[string]any{up}, ts)
			bl := r.Balancer("up")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var h Handle
				for pb.Next() {
					if _, err := bl.Pick(&h, "some-key"); err != nil {
						b.Fatal(err)
					}
					h.Release(1000)
				}
			})
		})
	}
}
