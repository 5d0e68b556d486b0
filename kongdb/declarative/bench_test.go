package declarative_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/declarative"
)

// bigYML has n services with a route and a plugin each, and n consumers
// with a credential each.
func bigYML(n int) []byte {
	var b strings.Builder
	b.WriteString("_format_version: \"3.0\"\nservices:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- name: s%d\n  url: http://u%d.test\n  routes:\n  - name: r%d\n    paths: [/p%d]\n  plugins:\n  - name: token-auth\n", i, i, i, i)
	}
	b.WriteString("consumers:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- username: c%d\n  token_credentials:\n  - key: k%d\n", i, i)
	}
	return []byte(b.String())
}

// BenchmarkParse: decoding and checking a 5000-entity file.
func BenchmarkParse(b *testing.B) {
	db := memDB(b)
	withTokenAuthTB(b, db)
	data := bigYML(1000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := declarative.Parse(ctx, db, data, "kong.yml", declarative.ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplace: replacing the embedded store's 5000 entities with the
// same file (every entity upserted, none deleted).
func BenchmarkReplace(b *testing.B) {
	db := memDB(b)
	withTokenAuthTB(b, db)
	cfg, err := declarative.Parse(ctx, db, bigYML(1000), "kong.yml", declarative.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := cfg.Replace(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
}
