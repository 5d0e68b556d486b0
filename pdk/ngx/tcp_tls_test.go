package ngx_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/pdktest"
)

// selfSigned is a certificate for example.test signed by itself, and its
// PEM file.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		DNSNames:              []string{"example.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

// tlsServer answers each line with "tls:<line>" and reports, per line,
// whether its connection resumed a session.
func tlsServer(t *testing.T, cert tls.Certificate) (string, chan bool) {
	resumed := make(chan bool, 16)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}} // one ticket key for all
	port, _ := tcpServer(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		rd := bufio.NewReader(tc)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			resumed <- tc.ConnectionState().DidResume
			io.WriteString(tc, "tls:"+line)
		}
	})
	return port, resumed
}

// sslhandshake without verification, with it against the system's roots
// (refused: self-signed), against lua_ssl_trusted_certificate (name
// checked), a session reused, and a pooled connection that stays in TLS.
func TestSocketTCPSSLHandshake(t *testing.T) {
	cert, caPath := selfSigned(t)
	port, resumed := tlsServer(t, cert)
	in, _ := pdktest.New(t)
	out := pdktest.Str(t, in, `
		local out = {}
		local sock = ngx.socket.tcp()
		assert(sock:connect("127.0.0.1", `+port+`))
		local sess, err = sock:sslhandshake(nil, "example.test", false)
		out[#out + 1] = type(sess)
		assert(sock:send("hi\n"))
		out[#out + 1] = sock:receive()
		sock:close()

		sock = ngx.socket.tcp()
		assert(sock:connect("127.0.0.1", `+port+`))
		local ok, err = sock:sslhandshake(false, "example.test", true)
		out[#out + 1] = tostring(ok) .. " " .. err
		out[#out + 1] = select(2, sock:send("x"))
		return table.concat(out, "|")`)
	if out != "userdata|tls:hi|nil 18: self-signed certificate|closed" {
		t.Fatalf("got %q", out)
	}
	<-resumed

	in, _ = pdktest.New(t, "lua_ssl_trusted_certificate", caPath)
	out = pdktest.Str(t, in, `
		local out = {}
		local function conn(reuse, name)
			local sock = ngx.socket.tcp()
			assert(sock:connect("127.0.0.1", `+port+`))
			local sess, err = sock:sslhandshake(reuse, name, true)
			if not sess then
				return nil, err
			end
			assert(sock:send("hi\n"))
			assert(sock:receive() == "tls:hi")
			return sess, sock
		end
		local ok, err = conn(nil, "other.test")
		out[#out + 1] = tostring(ok) .. " " .. err
		local ok, sock = conn(false, "example.test")
		out[#out + 1] = tostring(ok)
		sock:close()
		local sess, sock = conn(nil, "example.test")
		sock:close()
		local sess2, sock = conn(sess, "example.test")
		out[#out + 1] = type(sess2)
		assert(sock:setkeepalive())
		sock = ngx.socket.tcp()
		assert(sock:connect("127.0.0.1", `+port+`))
		out[#out + 1] = sock:getreusedtimes()
		out[#out + 1] = tostring(sock:sslhandshake(false, "example.test", true))
		assert(sock:send("again\n"))
		out[#out + 1] = sock:receive()
		return table.concat(out, "|")`)
	if out != "nil certificate host mismatch|true|userdata|1|true|tls:again" {
		t.Fatalf("got %q", out)
	}
	var got []bool
	for range 4 {
		got = append(got, <-resumed)
	}
	// example.test without a session, with none again, then with the
	// second's; the pooled connection is the third's
	if want := []bool{false, false, true, true}; !equalBools(got, want) {
		t.Fatalf("resumed %v, want %v", got, want)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
