package spechelpers

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// SSLFixtures is spec.fixtures.ssl: PEM text under the keys of Kong's
// spec/fixtures/ssl.lua, with the properties Kong's specs rely on (subject
// CNs, SANs, which certificate signed which, RSA or ECDSA, key encodings)
// but certificates of luahost's own, made once per process and valid ten
// years from then:
//
//   - cert/key, cert_alt/key_alt, cert_alt_alt/key_alt_alt (PKCS#8): RSA,
//     self-signed, CN ssl-example.com, ssl-alt.com, ssl-alt-alt.com
//   - cert_ecdsa, cert_alt_ecdsa (both CN ssl-example.com) and
//     cert_alt_alt_ecdsa (CN ssl-alt-alt.com): P-256, self-signed, CA
//   - cert_ca/key_ca: the "Kong Testing Root CA"
//   - cert_client/key_client: CN foo@example.com (email SANs foo@ and
//     bar@example.com, client auth), signed by an intermediate CA that
//     cert_ca signed; cert_client holds the leaf then the intermediate
//   - cert_client2/key_client2: CN example2.com, signed by cert_ca
//   - dhparam: RFC 7919's ffdhe2048 group as PKCS#3 DH parameters
//
// Each server certificate also names its CN as a DNS SAN, so clients that
// ignore the CN (Go's) verify the name as OpenSSL's do.
func SSLFixtures() (map[string]string, error) {
	sslOnce.Do(func() { sslSet, sslErr = makeSSLFixtures(time.Now()) })
	return sslSet, sslErr
}

var (
	sslOnce sync.Once
	sslSet  map[string]string
	sslErr  error
)

// sslFixtures is the Lua binding: a new table of SSLFixtures each call.
func sslFixtures(L *lua.LState) int {
	set, err := SSLFixtures()
	if err != nil {
		L.RaiseError("spec.fixtures.ssl: %s", err.Error())
	}
	t := L.CreateTable(0, len(set))
	for k, v := range set {
		t.RawSetString(k, lua.LString(v))
	}
	L.Push(t)
	return 1
}

// certSpec is one certificate of the set.
type certSpec struct {
	name    string // the set's key for the certificate; "" for the intermediate
	keyName string
	subject pkix.Name
	ec      bool
	pkcs8   bool // the key as "PRIVATE KEY" (PKCS#8)
	ca      bool
	pathLen int // for a CA: -1 none
	dns     []string
	emails  []string
	usage   x509.KeyUsage
	ext     []x509.ExtKeyUsage
	parent  string // the spec that signs it ("" self-signed)
}

func kongName(c, st, l, o, ou, cn string) pkix.Name {
	n := pkix.Name{CommonName: cn}
	for _, p := range []struct {
		v   string
		dst *[]string
	}{{c, &n.Country}, {st, &n.Province}, {l, &n.Locality}, {o, &n.Organization}, {ou, &n.OrganizationalUnit}} {
		if p.v != "" {
			*p.dst = []string{p.v}
		}
	}
	return n
}

// sslSpecs lists the set in signing order (a parent before its children).
func sslSpecs() []certSpec {
	core := func(cn string) pkix.Name { return kongName("US", "California", "San Francisco", "Kong", "Core", cn) }
	serverUsage := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	caUsage := x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	return []certSpec{
		{name: "cert_ca", keyName: "key_ca", subject: kongName("US", "California", "", "Kong Testing", "", "Kong Testing Root CA"),
			ca: true, pathLen: -1, usage: caUsage},
		// Kong's intermediate is spelt so
		{name: "", keyName: "", subject: kongName("US", "California", "", "Kong Testing", "", "Kong Testing Intermidiate CA"),
			ca: true, pathLen: 0, usage: caUsage, parent: "cert_ca"},
		{name: "cert_client", keyName: "key_client", subject: kongName("US", "California", "", "Kong Testing", "", "foo@example.com"),
			emails: []string{"foo@example.com", "bar@example.com"},
			usage:  x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment,
			ext:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}, parent: ""},
		{name: "cert_client2", keyName: "key_client2", subject: kongName("US", "CA", "", "Kong Testing", "", "example2.com"),
			dns: []string{"example2.com"}, usage: serverUsage,
			ext: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}, parent: "cert_ca"},
		{name: "cert", keyName: "key", subject: core("ssl-example.com"), dns: []string{"ssl-example.com"}, usage: serverUsage},
		{name: "cert_ecdsa", keyName: "key_ecdsa", subject: core("ssl-example.com"), dns: []string{"ssl-example.com"},
			ec: true, ca: true, pathLen: -1, usage: serverUsage | x509.KeyUsageCertSign},
		{name: "cert_alt", keyName: "key_alt", subject: kongName("US", "California", "San Francisco", "Mashape", "Kong", "ssl-alt.com"),
			dns: []string{"ssl-alt.com"}, usage: serverUsage},
		{name: "cert_alt_ecdsa", keyName: "key_alt_ecdsa", subject: core("ssl-example.com"), dns: []string{"ssl-example.com"},
			ec: true, ca: true, pathLen: -1, usage: serverUsage | x509.KeyUsageCertSign},
		// Kong's is spelt "San Francico"
		{name: "cert_alt_alt", keyName: "key_alt_alt", subject: kongName("US", "California", "San Francico", "Kong Inc.", "", "ssl-alt-alt.com"),
			dns: []string{"ssl-alt-alt.com"}, pkcs8: true, ca: true, pathLen: -1, usage: serverUsage | x509.KeyUsageCertSign},
		{name: "cert_alt_alt_ecdsa", keyName: "key_alt_alt_ecdsa", subject: core("ssl-alt-alt.com"), dns: []string{"ssl-alt-alt.com"},
			ec: true, ca: true, pathLen: -1, usage: serverUsage | x509.KeyUsageCertSign},
	}
}

func makeSSLFixtures(now time.Time) (map[string]string, error) {
	specs := sslSpecs()
	// the keys first, in parallel: RSA generation is most of the cost
	keys := make([]crypto.Signer, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i := range specs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if specs[i].ec {
				keys[i], errs[i] = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			} else {
				keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048)
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	type made struct {
		cert *x509.Certificate
		key  crypto.Signer
	}
	byName := map[string]made{}
	out := map[string]string{}
	var intermediate made
	for i, s := range specs {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
		if err != nil {
			return nil, err
		}
		tpl := &x509.Certificate{
			SerialNumber:   serial,
			Subject:        s.subject,
			NotBefore:      now.Add(-time.Hour),
			NotAfter:       now.AddDate(10, 0, 0),
			KeyUsage:       s.usage,
			ExtKeyUsage:    s.ext,
			DNSNames:       s.dns,
			EmailAddresses: s.emails,
		}
		if s.ca {
			tpl.BasicConstraintsValid, tpl.IsCA = true, true
			if s.pathLen >= 0 {
				tpl.MaxPathLen, tpl.MaxPathLenZero = s.pathLen, s.pathLen == 0
			} else {
				tpl.MaxPathLen = -1
			}
		} else if s.name == "cert_client" || s.name == "cert_client2" {
			tpl.BasicConstraintsValid = true
		}
		parent, signer := tpl, keys[i]
		switch {
		case s.name == "cert_client":
			parent, signer = intermediate.cert, intermediate.key
		case s.parent != "":
			parent, signer = byName[s.parent].cert, byName[s.parent].key
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, parent, keys[i].Public(), signer)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.subject.CommonName, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		m := made{cert, keys[i]}
		if s.name == "" {
			intermediate = m
			continue
		}
		byName[s.name] = m
		certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		if s.name == "cert_client" {
			// the chain, as Kong's: leaf then intermediate
			certPEM += string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: intermediate.cert.Raw}))
		}
		keyPEM, err := encodeKey(keys[i], s.pkcs8)
		if err != nil {
			return nil, err
		}
		out[s.name], out[s.keyName] = trimNL(certPEM), trimNL(keyPEM)
	}
	dh, err := asn1.Marshal(struct{ P, G *big.Int }{ffdhe2048(), big.NewInt(2)})
	if err != nil {
		return nil, err
	}
	out["dhparam"] = trimNL(string(pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: dh})))
	return out, nil
}

// encodeKey writes a private key as Kong's fixtures do: RSA as PKCS#1
// ("RSA PRIVATE KEY"), EC as SEC 1 ("EC PRIVATE KEY"), or PKCS#8.
func encodeKey(k crypto.Signer, pkcs8 bool) (string, error) {
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), nil
	}
	return "", fmt.Errorf("unexpected key type %T", k)
}

// Kong's PEM strings end at the last dash line, with no newline
func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}

// ffdhe2048 is RFC 7919's 2048-bit group prime, computed from its
// definition: p = 2^2048 - 2^1984 + (floor(2^1918 * e) + 560316) * 2^64 - 1.
func ffdhe2048() *big.Int {
	// e = sum 1/k! to well past 1918 bits
	const prec = 2200
	e := new(big.Float).SetPrec(prec).SetInt64(0)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := int64(1); k < 400; k++ {
		e.Add(e, term)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(k))
	}
	scaled := new(big.Float).SetPrec(prec).SetMantExp(e, 1918)
	fl, _ := scaled.Int(nil)
	fl.Add(fl, big.NewInt(560316))
	fl.Lsh(fl, 64)
	p := new(big.Int).Lsh(big.NewInt(1), 2048)
	p.Sub(p, new(big.Int).Lsh(big.NewInt(1), 1984))
	p.Add(p, fl)
	return p.Sub(p, big.NewInt(1))
}
