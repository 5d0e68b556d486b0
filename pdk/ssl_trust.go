package pdk

import (
	"crypto/x509"
	"errors"
	"os"
	"slices"
)

var errNoCerts = errors.New("no PEM certificate found")

// trustedCAs is lua_ssl_trusted_certificate as a pool: its PEM files, plus
// the system's roots for the entry "system" (Kong's default). nil when the
// property is unset: ngx.socket then trusts the system's roots. A file
// that cannot be read is logged once and skipped.
func (r *Root) trustedCAs() *x509.CertPool {
	r.casOnce.Do(func() {
		if r.Conf == nil {
			return
		}
		entries := r.Conf.List("lua_ssl_trusted_certificate")
		if len(entries) == 0 {
			return
		}
		pool := x509.NewCertPool()
		if slices.Contains(entries, "system") {
			if sys, err := x509.SystemCertPool(); err == nil {
				pool = sys.Clone()
			}
		}
		for _, e := range entries {
			if e == "system" {
				continue
			}
			pem, err := os.ReadFile(e)
			if err == nil && !pool.AppendCertsFromPEM(pem) {
				err = errNoCerts
			}
			if err != nil && r.Logger != nil {
				r.Logger.Error("lua_ssl_trusted_certificate: " + e + ": " + err.Error())
			}
		}
		r.cas = pool
	})
	return r.cas
}
