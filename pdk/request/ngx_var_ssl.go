package request

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// nginx's ngx_http_ssl_module variables. On a plain connection each is
// not found (nil), and so is one whose value is empty on a TLS connection
// (no SNI, no client certificate), as ngx_http_ssl_variable sets
// not_found for an empty value.
var sslVars = map[string]bool{
	"ssl_server_name": true, "ssl_protocol": true, "ssl_session_reused": true, "ssl_cipher": true,
	"ssl_client_verify": true, "ssl_client_s_dn": true, "ssl_client_i_dn": true, "ssl_client_serial": true,
	"ssl_client_fingerprint": true, "ssl_client_raw_cert": true, "ssl_client_cert": true,
	"ssl_client_v_start": true, "ssl_client_v_end": true, "ssl_client_v_remain": true,
}

func (s *State) sslVar(name string) lua.LValue {
	cs, ok := s.c.TLSState()
	if !ok {
		return lua.LNil
	}
	var v string
	switch name {
	case "ssl_server_name":
		v = cs.ServerName
	case "ssl_protocol":
		v = tlsVersionName(cs.Version)
	case "ssl_session_reused":
		v = "."
		if cs.DidResume {
			v = "r"
		}
	case "ssl_cipher":
		v = opensslCipherName(cs.CipherSuite)
	case "ssl_client_verify":
		v, _ = s.c.ClientVerify()
	default:
		if len(cs.PeerCertificates) == 0 {
			return lua.LNil
		}
		v = clientCertVar(name, cs.PeerCertificates[0], time.Now())
	}
	if v == "" {
		return lua.LNil
	}
	return lua.LString(v)
}

// clientCertVar is one of the $ssl_client_* variables of the client's
// certificate c.
func clientCertVar(name string, c *x509.Certificate, now time.Time) string {
	switch name {
	case "ssl_client_s_dn":
		return dnRFC2253(c.RawSubject)
	case "ssl_client_i_dn":
		return dnRFC2253(c.RawIssuer)
	case "ssl_client_serial":
		// i2a_ASN1_INTEGER: the magnitude's bytes in upper-case hex
		b := c.SerialNumber.Bytes()
		if len(b) == 0 {
			return "00"
		}
		sign := ""
		if c.SerialNumber.Sign() < 0 {
			sign = "-"
		}
		return sign + strings.ToUpper(hex.EncodeToString(b))
	case "ssl_client_fingerprint":
		sum := sha1.Sum(c.Raw)
		return hex.EncodeToString(sum[:])
	case "ssl_client_raw_cert":
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	case "ssl_client_cert":
		// the PEM with a tab after every line break but the last
		p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		return strings.ReplaceAll(p[:len(p)-1], "\n", "\n\t") + p[len(p)-1:]
	case "ssl_client_v_start":
		return asn1TimeText(c.NotBefore)
	case "ssl_client_v_end":
		return asn1TimeText(c.NotAfter)
	case "ssl_client_v_remain":
		end := c.NotAfter.Unix()
		if end < now.Unix()+86400 {
			return "0"
		}
		return strconv.FormatInt((end-now.Unix())/86400, 10)
	}
	return ""
}

// asn1TimeText is ASN1_TIME_print's text ("Jan  2 15:04:05 2006 GMT").
func asn1TimeText(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05 2006 GMT") }

// dnShortNames are OpenSSL's short names of the attribute types
// X509_NAME_print_ex prints.
var dnShortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L",
	"2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "title",
	"2.5.4.15": "businessCategory", "2.5.4.17": "postalCode", "2.5.4.41": "name", "2.5.4.42": "GN",
	"2.5.4.43": "initials", "2.5.4.44": "generationQualifier", "2.5.4.46": "dnQualifier",
	"2.5.4.65": "pseudonym", "2.5.4.97": "organizationIdentifier",
	"0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
	"1.2.840.113549.1.9.1": "emailAddress",
}

// dnRFC2253 is nginx's $ssl_client_s_dn / i_dn: X509_NAME_print_ex with
// XN_FLAG_RFC2253 (last RDN first, "," between RDNs, "+" inside one, RFC
// 2253 escapes, bytes outside ASCII as \XX, values of unknown types as
// #<DER hex>).
func dnRFC2253(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return ""
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		for j, atv := range seq[i] {
			switch {
			case j > 0:
				b.WriteByte('+')
			case i < len(seq)-1:
				b.WriteByte(',')
			}
			oid := atv.Type.String()
			name, known := dnShortNames[oid]
			if !known {
				name = oid
			}
			b.WriteString(name)
			b.WriteByte('=')
			str, isStr := atv.Value.(string)
			if !known || !isStr {
				der, err := asn1.Marshal(atv.Value)
				if err != nil {
					continue
				}
				b.WriteByte('#')
				b.WriteString(strings.ToUpper(hex.EncodeToString(der)))
				continue
			}
			escapeDNValue(&b, str)
		}
	}
	return b.String()
}

func escapeDNValue(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';',
			i == 0 && (c == '#' || c == ' '), i == len(v)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(b, "\\%02X", c)
		default:
			b.WriteByte(c)
		}
	}
}

// opensslCiphers are OpenSSL's names of the TLS 1.2 suites crypto/tls
// offers ($ssl_cipher); TLS 1.3 suites have their IANA names there too.
var opensslCiphers = map[uint16]string{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       "ECDHE-ECDSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         "ECDHE-RSA-AES128-SHA256",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               "AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:           "ECDHE-RSA-DES-CBC3-SHA",
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:                 "DES-CBC3-SHA",
}

func opensslCipherName(id uint16) string {
	if n, ok := opensslCiphers[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}
