package kongdb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
)

func testCert(t testing.TB, cn string, isCA bool, notAfter time.Time) (string, string) {
	return kongdbtest.Cert(t, cn, isCA, notAfter)
}

// schemaErrs returns the field errors of a schema violation.
func schemaErrs(t testing.TB, err error) map[string]any {
	t.Helper()
	e, ok := kongdb.AsError(err)
	if !ok || e.Code != kongdb.SchemaViolation {
		t.Fatalf("want a schema violation, got %v", err)
	}
	m, _ := e.Fields.(map[string]any)
	return m
}

var bg = context.Background()

func TestSnisSchema(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		snis, certs := db.DAO("snis"), db.DAO("certificates")
		_, err := snis.Insert(bg, M{"name": "*.example.*"}, nil)
		eq(t, schemaErrs(t, err), M{"certificate": "required field missing", "name": "only one wildcard must be specified"})
		_, err = snis.Insert(bg, M{"name": "a.*.example.test", "certificate": M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"}}, nil)
		eq(t, schemaErrs(t, err), M{"name": "wildcard must be leftmost or rightmost character"})
		_, err = snis.Insert(bg, M{"name": "10.0.0.1", "certificate": M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"}}, nil)
		eq(t, schemaErrs(t, err), M{"name": "must not be an IP"})

		c, k := testCert(t, "example.test", false, time.Now().Add(24*time.Hour))
		cert := must[kongdb.Row](t)(certs.Insert(bg, M{"cert": c, "key": k}, nil))
		s1 := must[kongdb.Row](t)(snis.Insert(bg, M{"name": "example.test", "certificate": M{"id": cert["id"]}}, nil))
		must[kongdb.Row](t)(snis.Insert(bg, M{"name": "*.example.test", "certificate": M{"id": cert["id"]}}, nil))
		eq(t, s1["certificate"], M{"id": cert["id"]})
		_, err = snis.Insert(bg, M{"name": "example.test", "certificate": M{"id": cert["id"]}}, nil)
		wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{name="example.test"}'`)
		got := must[kongdb.Row](t)(snis.SelectBy(bg, "name", "*.example.test", nil))
		eq(t, got["certificate"], M{"id": cert["id"]})

		// the certificates DAO deletes a certificate's SNIs with it
		if ok, err := certs.Delete(bg, M{"id": cert["id"]}, nil); !ok || err != nil {
			t.Fatalf("delete certificate: %v %v", ok, err)
		}
		for _, name := range []string{"example.test", "*.example.test"} {
			if r, err := snis.SelectBy(bg, "name", name, nil); r != nil || err != nil {
				t.Fatalf("sni %s outlived its certificate: %v %v", name, r, err)
			}
		}
	})
}

func TestCACertificatesSchema(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		cas := db.DAO("ca_certificates")
		notCA, _ := testCert(t, "leaf.test", false, time.Now().Add(24*time.Hour))
		_, err := cas.Insert(bg, M{"cert": notCA}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+`schema violation (certificate does not appear to be a CA because it is missing the "CA" basic constraint)`)
		expired, _ := testCert(t, "old.test", true, time.Now().Add(-time.Hour))
		_, err = cas.Insert(bg, M{"cert": expired}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+`schema violation (certificate expired, "Not After" time is in the past)`)
		ca, _ := testCert(t, "ca.test", true, time.Now().Add(24*time.Hour))
		ca2, _ := testCert(t, "ca2.test", true, time.Now().Add(24*time.Hour))
		_, err = cas.Insert(bg, M{"cert": ca + ca2}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+`schema violation (please submit only one certificate at a time)`)
		_, err = cas.Insert(bg, M{}, nil)
		eq(t, schemaErrs(t, err), M{"cert": "required field missing"})

		row := must[kongdb.Row](t)(cas.Insert(bg, M{"cert": ca}, nil))
		blk, _ := pem.Decode([]byte(ca))
		sum := sha256.Sum256(blk.Bytes)
		eq(t, row["cert_digest"], hex.EncodeToString(sum[:]))
		got := must[kongdb.Row](t)(cas.Select(bg, M{"id": row["id"]}, nil))
		eq(t, got["cert_digest"], row["cert_digest"])
		_, err = cas.Insert(bg, M{"cert": ca}, nil)
		wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{cert_digest="`+hex.EncodeToString(sum[:])+`"}'`)
		// a new cert, a new digest
		upd := must[kongdb.Row](t)(cas.Update(bg, M{"id": row["id"]}, M{"cert": ca2}, nil))
		blk, _ = pem.Decode([]byte(ca2))
		sum = sha256.Sum256(blk.Bytes)
		eq(t, upd["cert_digest"], hex.EncodeToString(sum[:]))
	})
}

func TestUpstreamsSchema(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		ups := db.DAO("upstreams")
		for name, msg := range map[string]string{
			"1.2.3.4":         "Invalid name ('1.2.3.4'); no ip addresses allowed",
			"example.test:80": "Invalid name ('example.test:80'); no port allowed",
			"bad name!":       "Invalid name ('bad name!'); must be a valid hostname",
		} {
			_, err := ups.Insert(bg, M{"name": name}, nil)
			eq(t, schemaErrs(t, err), M{"name": msg})
		}
		_, err := ups.Insert(bg, M{"name": "u", "hash_on": "header", "slots": 5}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+`3 schema violations (failed conditional validation given value of field 'hash_on'; hash_on_header: required field missing; slots: value should be between 10 and 65536)`)
		_, err = ups.Insert(bg, M{"name": "u", "hash_on": "cookie", "hash_on_cookie": "c", "hash_fallback": "ip"}, nil)
		eq(t, schemaErrs(t, err), M{"@entity": []any{"failed conditional validation given value of field 'hash_on'"}, "hash_fallback": "expected one of: none"})
		_, err = ups.Insert(bg, M{"name": "u", "hash_on": "header", "hash_on_header": "X-A", "hash_fallback": "header", "hash_fallback_header": "X-A"}, nil)
		eq(t, schemaErrs(t, err), M{"@entity": []any{"values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'"}})
		_, err = ups.Insert(bg, M{"name": "u", "healthchecks": M{"active": M{"concurrency": 0, "healthy": M{"http_statuses": []any{99}}}, "threshold": 101}}, nil)
		eq(t, schemaErrs(t, err), M{"healthchecks": M{
			"active":    M{"concurrency": "value should be between 1 and 2147483648", "healthy": M{"http_statuses": []any{"value should be between 100 and 999"}}},
			"threshold": "value should be between 0 and 100",
		}})

		u := must[kongdb.Row](t)(ups.Insert(bg, M{"name": "u.test"}, nil))
		for k, want := range (M{"algorithm": "round-robin", "hash_on": "none", "hash_fallback": "none",
			"hash_on_cookie_path": "/", "slots": float64(10000), "use_srv_name": false}) {
			eq(t, u[k], want)
		}
		hc := u["healthchecks"].(map[string]any)
		active := hc["active"].(map[string]any)
		eq(t, active["healthy"], M{"interval": float64(0), "successes": float64(0), "http_statuses": []any{float64(200), float64(302)}})
		eq(t, active["type"], "http")
		eq(t, active["https_verify_certificate"], true)
		eq(t, hc["passive"].(map[string]any)["unhealthy"].(map[string]any)["http_statuses"], []any{float64(429), float64(500), float64(503)})
		eq(t, hc["threshold"], float64(0))
		// hash_on's shorthand switches the algorithm
		u2 := must[kongdb.Row](t)(ups.Insert(bg, M{"name": "u2.test", "hash_on": "ip"}, nil))
		eq(t, u2["algorithm"], "consistent-hashing")
		u3 := must[kongdb.Row](t)(ups.Insert(bg, M{"name": "u3.test", "algorithm": "least-connections"}, nil))
		eq(t, u3["hash_on"], "none")
		// a partial healthchecks record leaves the defaults of later ones alone
		u4 := must[kongdb.Row](t)(ups.Insert(bg, M{"name": "u4.test", "healthchecks": M{"active": M{"timeout": float64(5), "healthy": M{"http_statuses": []any{float64(201)}}}}}, nil))
		a4 := u4["healthchecks"].(map[string]any)["active"].(map[string]any)
		eq(t, a4["timeout"], float64(5))
		eq(t, a4["concurrency"], float64(10))
		eq(t, a4["healthy"], M{"interval": float64(0), "successes": float64(0), "http_statuses": []any{float64(201)}})
		u5 := must[kongdb.Row](t)(ups.Insert(bg, M{"name": "u5.test"}, nil))
		eq(t, u5["healthchecks"], u["healthchecks"])
		_, err = ups.Insert(bg, M{"name": "u.test"}, nil)
		wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{name="u.test"}'`)
	})
}

func TestTargetsSchema(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		ups, tgs := db.DAO("upstreams"), db.DAO("targets")
		u := must[kongdb.Row](t)(ups.Insert(bg, M{"name": "u.test"}, nil))
		up := M{"id": u["id"]}
		_, err := tgs.Insert(bg, M{"upstream": up}, nil)
		eq(t, schemaErrs(t, err), M{"target": "required field missing"})
		_, err = tgs.Insert(bg, M{"target": "bad target!", "upstream": up}, nil)
		eq(t, schemaErrs(t, err), M{"target": "Invalid target; not a valid hostname or ip address"})
		_, err = tgs.Insert(bg, M{"target": "10.0.0.1", "weight": 70000}, nil)
		eq(t, schemaErrs(t, err), M{"upstream": "required field missing", "weight": "value should be between 0 and 65535"})

		t1 := must[kongdb.Row](t)(tgs.Insert(bg, M{"target": "10.0.0.1", "upstream": up}, nil))
		eq(t, t1["target"], "10.0.0.1:8000")
		eq(t, t1["weight"], float64(100))
		if ts, ok := t1["created_at"].(float64); !ok || ts <= 0 {
			t.Fatalf("created_at: %v", t1["created_at"])
		}
		t2 := must[kongdb.Row](t)(tgs.Insert(bg, M{"target": "::1", "upstream": up, "weight": 0}, nil))
		eq(t, t2["target"], "[0000:0000:0000:0000:0000:0000:0000:0001]:8000")
		t3 := must[kongdb.Row](t)(tgs.Insert(bg, M{"target": "b.test:81", "upstream": up}, nil))
		eq(t, t3["target"], "b.test:81")
		_, err = tgs.Insert(bg, M{"target": "10.0.0.1:8000", "upstream": up}, nil)
		wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{target="10.0.0.1:8000",upstream={id="`+u["id"].(string)+`"}}'`)
		// an update validates without formatting, as Kong's DAO does
		_, err = tgs.Update(bg, M{"id": t1["id"]}, M{"target": "bad target!"}, nil)
		eq(t, schemaErrs(t, err), M{"target": "Invalid target ('bad target!'); not a valid hostname or ip address"})

		rows, _, err := tgs.PageFor(bg, "upstream", up, nil, nil, nil)
		if err != nil || len(rows) != 3 {
			t.Fatalf("targets of the upstream: %d %v", len(rows), err)
		}
		// deleting the upstream deletes its targets (on_delete = "cascade")
		if ok, err := ups.Delete(bg, up, nil); !ok || err != nil {
			t.Fatalf("delete upstream: %v %v", ok, err)
		}
		if r, err := tgs.Select(bg, M{"id": t1["id"]}, nil); r != nil || err != nil {
			t.Fatalf("target outlived its upstream: %v %v", r, err)
		}
	})
}

func TestFormatTarget(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4": "1.2.3.4:8000", "1.2.3.4:80": "1.2.3.4:80", "example.test": "example.test:8000",
		"[::1]:81": "[0000:0000:0000:0000:0000:0000:0000:0001]:81",
	} {
		if got, ok := kongdb.FormatTarget(in); !ok || got != want {
			t.Errorf("FormatTarget(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := kongdb.FormatTarget("a b"); ok {
		t.Error("FormatTarget accepted a b")
	}
}

func TestCertificatesSchema(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		certs := db.DAO("certificates")
		c1, k1 := testCert(t, "one.test", false, time.Now().Add(24*time.Hour))
		c2, k2 := testCert(t, "two.test", false, time.Now().Add(24*time.Hour))
		_, err := certs.Insert(bg, M{"cert": c1, "key": k2}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (certificate does not match key)")
		_, err = certs.Insert(bg, M{"cert": c1, "key": k1, "cert_alt": c2}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+"2 schema violations (all or none of these fields must be set: 'cert_alt', 'key_alt'; "+
			"certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type)")
		_, err = certs.Insert(bg, M{"cert": c1, "key": k1, "cert_alt": c2, "key_alt": k2}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (certificate and alternative certificate need to have "+
			"different type (e.g. RSA and ECDSA), the provided certificates were both of the same type)")
		_, err = certs.Insert(bg, M{"cert": "nope", "key": k1}, nil)
		if f := schemaErrs(t, err); f["cert"] == nil || f["key"] != nil {
			t.Fatalf("invalid cert: %v", f)
		}
		must[kongdb.Row](t)(certs.Insert(bg, M{"cert": c1, "key": k1}, nil))
	})
}

// Kong's routes have subschemas keyed by protocol: each protocol family
// requires one of its matching fields, forbids the others' fields, and
// grpc routes default strip_path to false and forbid setting it.
func TestRoutesProtocolSubschemas(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		routes := db.DAO("routes")
		_, err := routes.Insert(bg, M{}, nil)
		eq(t, schemaErrs(t, err), M{"@entity": []any{"must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"}})
		_, err = routes.Insert(bg, M{"protocols": []any{"http"}}, nil)
		eq(t, schemaErrs(t, err), M{"@entity": []any{"must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"}})
		_, err = routes.Insert(bg, M{"protocols": []any{"tcp"}, "paths": []any{"/"}}, nil)
		eq(t, schemaErrs(t, err), M{
			"paths":   "cannot set 'paths' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'",
			"@entity": []any{"must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'"}})
		_, err = routes.Insert(bg, M{"protocols": []any{"grpc"}, "paths": []any{"/"}, "strip_path": true}, nil)
		eq(t, schemaErrs(t, err), M{"strip_path": "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"})
		_, err = routes.Insert(bg, M{"protocols": []any{"http"}, "paths": []any{"/"}, "snis": []any{"a.test"}}, nil)
		eq(t, schemaErrs(t, err), M{"@entity": []any{"'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"}, "snis": "length must be 0"})
		r := must[kongdb.Row](t)(routes.Insert(bg, M{"protocols": []any{"grpc", "grpcs"}, "hosts": []any{"g.test"}}, nil))
		eq(t, r["strip_path"], false)
		r = must[kongdb.Row](t)(routes.Insert(bg, M{"hosts": []any{"h.test"}}, nil))
		eq(t, r["strip_path"], true)
	})
}

// Kong's protocols are constants.PROTOCOLS: grpc, grpcs, http, https, tcp,
// tls, tls_passthrough, udp (ws/wss are Kong Enterprise's).
func TestProtocolsAreKongs(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		const msg = "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp"
		_, err := db.DAO("routes").Insert(bg, M{"protocols": []any{"ws", "http"}, "paths": []any{"/"}}, nil)
		eq(t, schemaErrs(t, err), M{"protocols": []any{msg}})
		_, err = db.DAO("services").Insert(bg, M{"protocol": "wss", "host": "a.test"}, nil)
		eq(t, schemaErrs(t, err), M{"protocol": msg})
	})
}
