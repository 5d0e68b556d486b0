package schema

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"
)

type builtinCase struct {
	in   any
	want string // "" = valid
}

func runBuiltin(t *testing.T, name string, cases []builtinCase) {
	t.Helper()
	v := BuiltinValidator(name)
	if v == nil {
		t.Fatalf("no builtin %q", name)
	}
	for _, c := range cases {
		ok, msg := v(c.in)
		if c.want == "" {
			if !ok {
				t.Errorf("%s(%q): want valid, got %q", name, c.in, msg)
			}
			continue
		}
		if ok || msg != c.want {
			t.Errorf("%s(%q): got ok=%v %q, want %q", name, c.in, ok, msg, c.want)
		}
	}
}

func TestBuiltinHost(t *testing.T) {
	for _, name := range []string{"host", "redis_host"} {
		runBuiltin(t, name, []builtinCase{
			{"example.com", ""}, {"example.com.", ""}, {"-lead.example", ""}, {"a_b.c", ""},
			{"1.2.3.4", ""}, {"::1", ""}, {"[::1]", ""}, {"fe80::1:2", ""},
			{"example.com:80", "must not have a port"},
			{"example.com:99999", "must not have a port"},
			{"1.2.3.4:80", "must not have a port"},
			{"[::1]:8000", "must not have a port"},
			{"[::1]:99999", "must not have a port"},
			{"exa mple", "invalid value: exa mple"},
			{"a-.com", "invalid value: a-.com"},
			{"a..com", "invalid value: a..com"},
			{".a.com", "invalid value: .a.com"},
			{"300.1.1.1", "invalid value: 300.1.1.1"},
			{"1.2.3", "invalid value: 1.2.3"},
			{"1.2.3.4:", "invalid value: 1.2.3.4:"},
			{"a.com:", "invalid value: a.com:"},
			{"1:2:3", "invalid value: 1:2:3"},
			{"[::1]x", "invalid value: [::1]x"},
			{"1:2:3:4:5:6:7:8:9", "invalid value: 1:2:3:4:5:6:7:8:9"},
			{"ünïcode.com", "invalid value: ünïcode.com"},
			{42.0, ""}, // not a string: the type check reports it
		})
	}
}

func TestBuiltinHostWithOptionalPort(t *testing.T) {
	runBuiltin(t, "host_with_optional_port", []builtinCase{
		{"example.com", ""}, {"example.com:8000", ""}, {"1.2.3.4:0", ""}, {"[::1]:65535", ""}, {"::", ""},
		{"example.com:65536", "invalid port number"},
		{"1.2.3.4:65536", "invalid port number"},
		{"[::1]:65536", "invalid port number"},
		{"[::1]:x", "invalid ipv6 address"},
		{"exa mple", "invalid hostname: exa mple"},
		{"1.2.3", "invalid ipv4 address: 1.2.3"},
		{"1.2.3.1234", "invalid ipv4 address: 1.2.3.1234"},
		{"1:2:x", "invalid ipv6 address: 1:2:x"},
	})
	runBuiltin(t, "host_with_wildcards", []builtinCase{
		{"*.example.com", ""}, {"example.*", ""}, {"*.example.com:80", ""},
		{"a b.*", "invalid hostname: a b.abc"},
	})
}

func TestBuiltinWildcardHostAndSNI(t *testing.T) {
	runBuiltin(t, "wildcard_host", []builtinCase{
		{"*.example.com", ""}, {"example.*", ""}, {"*", ""}, {"example.com", ""},
		{"a.*.com", "wildcard must be leftmost or rightmost character"},
		{"*.example.*", "only one wildcard must be specified"},
		{"**", "only one wildcard must be specified"},
		{"*.example.com:80", "must not have a port"},
		{"*.exa mple", "invalid value: wildcard.exa mple"},
		{"1.2.3.4", "must not be an IP"},
		{"::1", "must not be an IP"},
		{"1.2.3.4:80", "must not be an IP"},
	})
	runBuiltin(t, "sni", []builtinCase{
		{"example.com", ""},
		{"1.2.3.4", "must not be an IP"},
		{"[::1]:80", "must not be an IP"},
		{"example.com:443", "must not have a port"},
		{"example.com:99999", "must not have a port"},
		{"bad name", "invalid value: bad name"},
	})
}

func TestBuiltinIP(t *testing.T) {
	runBuiltin(t, "ip", []builtinCase{
		{"1.2.3.4", ""}, {"::1", ""}, {"::ffff:1.2.3.4", ""}, {"2001:db8::1", ""},
		{"1.2.3.256", "not an ip address: 1.2.3.256"},
		{"01.2.3.4", "not an ip address: 01.2.3.4"},
		{"1.2.3.4/32", "not an ip address: 1.2.3.4/32"},
		{"fe80::1%eth0", "not an ip address: fe80::1%eth0"},
		{"example.com", "not an ip address: example.com"},
	})
	runBuiltin(t, "ip_or_cidr", []builtinCase{
		{"1.2.3.4", ""}, {"10.0.0.0/8", ""}, {"0.0.0.0/0", ""}, {"::/0", ""}, {"2001:db8::/128", ""},
		{"10.0.0.0/33", "invalid ip or cidr range: '10.0.0.0/33'"},
		{"10.0.0.0/08", "invalid ip or cidr range: '10.0.0.0/08'"},
		{"10.0.0.0/", "invalid ip or cidr range: '10.0.0.0/'"},
		{"10.0.0.0/+8", "invalid ip or cidr range: '10.0.0.0/+8'"},
		{"::/129", "invalid ip or cidr range: '::/129'"},
		{"x/8", "invalid ip or cidr range: 'x/8'"},
	})
	runBuiltin(t, "ip_or_cidr_v4", []builtinCase{
		{"1.2.3.4", ""}, {"10.0.0.0/8", ""},
		{"::/0", "invalid ipv4 cidr range: '::/0'"},
		{"::1", "invalid ipv4 cidr range: '::1'"},
	})
}

func TestBuiltinPath(t *testing.T) {
	runBuiltin(t, "path", []builtinCase{
		{"/", ""}, {"/foo/bar", ""}, {"/a%20b", ""}, {"/~!$&'()*+,;=:@-._", ""},
		{"/foo bar", "invalid path: '/foo bar' (characters outside of the reserved list of RFC 3986 found)"},
		{"/a?b", "invalid path: '/a?b' (characters outside of the reserved list of RFC 3986 found)"},
		{"foo", "invalid path: 'foo' (characters outside of the reserved list of RFC 3986 found)"},
		{"/foo%zz", "invalid url-encoded value: '%zz'"},
		{"/foo%2", "invalid url-encoded value: '%2'"},
		{"/foo%", "invalid url-encoded value: '%'"},
		{"/%41%4", "invalid url-encoded value: '%4'"},
		{"/%%41", "invalid url-encoded value: '%__'"},
	})
	runBuiltin(t, "router_path", []builtinCase{
		{"/", ""}, {"/a/b", ""}, {"/a b", ""}, {"~/users/\\d+$", ""}, {"/%2F", ""},
		// PCRE's lookaround and back references compile (regexp2 in the
		// router); what the router cannot compile is refused here
		{"~/(?!admin)\\w+", ""}, {"~/(\\w+)/\\1", ""},
		{"~/a\\Kb", "invalid regex: '/a\\Kb' (PCRE returned: pcre2_compile() failed: compilation failed in \"/a\\Kb\")"},
		{"/a/../b", "non-normalized path, consider use '/b' instead"},
		{"/a/./b", "non-normalized path, consider use '/a/b' instead"},
		{"/%7euser", "non-normalized path, consider use '/~user' instead"},
		{"/%2f", "non-normalized path, consider use '/%2F' instead"},
		{"/%zz", "invalid url-encoded value: '%zz'"},
	})
	ok, msg := BuiltinValidator("router_path")("~/(a")
	if ok || !strings.HasPrefix(msg, "invalid regex: '/(a' (PCRE returned: ") {
		t.Errorf("router_path regex: %v %q", ok, msg)
	}
}

func TestBuiltinPathWithRegexes(t *testing.T) {
	runBuiltin(t, "path_with_regexes", []builtinCase{
		{"/a/b", ""}, {"/a/../b", ""}, {"/users/\\d+$", ""}, {"/a b", ""},
		{"/%zz", "invalid url-encoded value: '%zz'"},
	})
	ok, msg := BuiltinValidator("path_with_regexes")("/(a")
	if ok || !strings.HasPrefix(msg, "invalid regex: '/(a' (PCRE returned: ") {
		t.Errorf("got %v %q", ok, msg)
	}
}

func TestNormalizeURI(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "/": "/", "/a/b": "/a/b", "/a/./b": "/a/b", "/a/../b": "/b", "/../a": "/a",
		"/a/b/..": "/a/", "/a/.": "/a/", "/a//b": "/a/b", "/%41%2f": "/A%2F", "/a%2E%2E/b": "/a../b",
		"/a/%2e%2e/b": "/b",
	} {
		if got := normalizeURI(in, true); got != want {
			t.Errorf("normalizeURI(%q) = %q, want %q", in, got, want)
		}
	}
	if got := normalizeURI("/a//b", false); got != "/a//b" {
		t.Errorf("without merge: %q", got)
	}
}

func TestBuiltinURL(t *testing.T) {
	runBuiltin(t, "url", []builtinCase{
		{"http://example.com", ""}, {"https://u:p@[::1]:8443/p?q#f", ""}, {"postgres://db", ""},
		{"http://h?x=1", ""}, {"http://h#frag", ""},
		{"example.com", "missing host in url"},
		{"example.com/path", "missing host in url"},
		{"http://", "missing host in url"},
		{"http:///path", "missing host in url"},
		{"http://u@", "missing host in url"},
		{"http://#x", "missing host in url"},
		{"//example.com", "missing scheme in url"},
		{"", "could not parse url. invalid url"},
	})
}

func TestBuiltinHeaderAndCookieName(t *testing.T) {
	runBuiltin(t, "header_name", []builtinCase{
		{"X-Foo_1", ""},
		{"", "no header name provided"},
		{"X Foo", "bad header name 'X Foo', allowed characters are A-Z, a-z, 0-9, '_', and '-'"},
		{"X.Foo", "bad header name 'X.Foo', allowed characters are A-Z, a-z, 0-9, '_', and '-'"},
	})
	const bad = "contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed."
	runBuiltin(t, "cookie_name", []builtinCase{
		{"session", ""}, {"a.b!#$%&'*+-^_`|~", ""},
		{"", "no token provided"},
		{"a b", bad}, {"a;b", bad}, {"a\tb", bad}, {"a\x7f", bad}, {"é", bad}, {"a=b", bad},
	})
}

func TestBuiltinNames(t *testing.T) {
	runBuiltin(t, "name", []builtinCase{
		{"my-name_1.~", ""},
		{"a b", "invalid value 'a b': it must only contain alphanumeric and '., -, _, ~' characters"},
		{"é", "invalid value 'é': it must only contain alphanumeric and '., -, _, ~' characters"},
	})
	runBuiltin(t, "utf8_name", []builtinCase{
		{"名前-1", ""}, {"plain", ""},
		{"a b", "invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~"},
		{"a\xffb", "invalid utf-8 character sequence detected at position 2"},
		{"ab\xc3", "invalid utf-8 character sequence detected at position 3"},
		{"\xed\xa0\x80", "invalid utf-8 character sequence detected at position 1"}, // surrogate
	})
	runBuiltin(t, "tag", []builtinCase{
		{"a tag", ""}, {"étiquette", ""}, {"!#$%&'()*+-.:;<=>?@[]^_`{|}~", ""},
		{"a,b", "invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"},
		{"a/b", "invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"},
		{"a\tb", "invalid tag 'a\tb': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"},
		{"\xc0\x80", "invalid utf-8 character sequence detected at position 1"},
	})
}

// Kong's validate_utf8 takes 123..191 as the second byte of a two-byte
// sequence; the Go port keeps that.
func TestValidateUTF8Quirk(t *testing.T) {
	if ok, _ := validateUTF8("\xc2{"); !ok {
		t.Error("\\xc2{ should pass as in Kong")
	}
	if ok, pos := validateUTF8("\xc2\x80\xc2z"); ok || pos != 3 {
		t.Errorf("got %v %d, want false 3", ok, pos)
	}
	if ok, pos := validateUTF8("\xf4\x90\x80\x80"); ok || pos != 1 {
		t.Errorf("beyond U+10FFFF: got %v %d", ok, pos)
	}
}

func testKeyPair(t *testing.T) (privPEM, pubPEM, certPEM string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	privPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pder, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pubPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}))
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cder, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cder}))
	return
}

func TestBuiltinKeys(t *testing.T) {
	priv, pub, cert := testKeyPair(t)
	otherPriv, otherPub, _ := testKeyPair(t)
	runBuiltin(t, "certificate", []builtinCase{{cert, ""}})
	if ok, msg := BuiltinValidator("certificate")("junk"); ok || !strings.HasPrefix(msg, "invalid certificate: ") {
		t.Errorf("certificate junk: %v %q", ok, msg)
	}
	runBuiltin(t, "key", []builtinCase{{priv, ""}, {pub, ""}})
	if ok, msg := BuiltinValidator("key")("junk"); ok || !strings.HasPrefix(msg, "invalid key: ") {
		t.Errorf("key junk: %v %q", ok, msg)
	}
	runBuiltin(t, "pem", []builtinCase{
		{map[string]any{"private_key": priv, "public_key": pub}, ""},
		{map[string]any{"private_key": priv}, ""},
		{map[string]any{"public_key": otherPub, "private_key": Null}, ""},
		{map[string]any{"private_key": "{vault://env/k}", "public_key": "junk"}, ""},
		{map[string]any{"public_key": "junk"}, "could not load public key"},
		{map[string]any{"private_key": priv, "public_key": otherPub}, "public key does not match private key"},
		{map[string]any{"private_key": otherPriv, "public_key": pub}, "public key does not match private key"},
	})
	if ok, msg := BuiltinValidator("pem")(map[string]any{"private_key": "junk"}); ok || !strings.HasPrefix(msg, "could not load private key") {
		t.Errorf("pem junk private: %v %q", ok, msg)
	}
	runBuiltin(t, "jwk", []builtinCase{{map[string]any{"kid": "1"}, ""}})
}

func TestBuiltinRegistry(t *testing.T) {
	names := BuiltinNames()
	sort.Strings(names)
	for _, n := range names {
		if BuiltinValidatorFor(&Func{Ref: BuiltinRefPrefix + n}) == nil {
			t.Errorf("builtin %s not found by ref", n)
		}
	}
	if BuiltinValidatorFor(&Func{Ref: "builtin:nope"}) != nil || BuiltinValidatorFor(&Func{Ref: "lua:1"}) != nil ||
		BuiltinValidatorFor(nil) != nil {
		t.Error("unknown refs must give nil")
	}
}

// A definition whose custom_validator is a builtin marker validates with no
// FuncRunner in the context; any other function still needs one.
func TestBuiltinMarkerInDefinition(t *testing.T) {
	s, err := SchemaFromMap(map[string]any{
		"name": "t",
		"fields": []any{
			map[string]any{"h": map[string]any{"type": "string", "custom_validator": &Func{Ref: "builtin:host"}}},
			map[string]any{"l": map[string]any{"type": "string", "custom_validator": &Func{Ref: "lua:7"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := s.ValidateField(ctx, s.Field("h"), "a.com:1")
	if err != nil || got != "must not have a port" {
		t.Errorf("got %#v, %v", got, err)
	}
	if got, err := s.ValidateField(ctx, s.Field("h"), "a.com"); err != nil || got != nil {
		t.Errorf("valid host: %#v, %v", got, err)
	}
	if _, err := s.ValidateField(ctx, s.Field("l"), "x"); err == nil {
		t.Error("a Lua function without a runner must fail to run")
	}
}

func BenchmarkBuiltinHost(b *testing.B) {
	v := BuiltinValidator("host")
	b.ReportAllocs()
	for b.Loop() {
		v("api.example.com")
	}
}

func BenchmarkBuiltinIPOrCIDR(b *testing.B) {
	v := BuiltinValidator("ip_or_cidr")
	b.ReportAllocs()
	for b.Loop() {
		v("10.0.0.0/8")
	}
}

func BenchmarkBuiltinRouterPath(b *testing.B) {
	v := BuiltinValidator("router_path")
	b.ReportAllocs()
	for b.Loop() {
		v("/api/v1/users")
	}
}

func BenchmarkBuiltinTag(b *testing.B) {
	v := BuiltinValidator("tag")
	b.ReportAllocs()
	for b.Loop() {
		v("production-team-a")
	}
}

// No string makes a builtin validator panic, and a failure always has a
// message.
func FuzzBuiltinValidators(f *testing.F) {
	for _, s := range []string{"", "[", "[]:", "[::1]:", "a:b", "1.2.3.4:", "::", ":::", "*.*", "/%", "~/(", "http://[", "\xff", "a..b", "%zz", "/a/../.."} {
		f.Add(s)
	}
	names := BuiltinNames()
	sort.Strings(names)
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range names {
			var in any = s
			if n == "pem" || n == "jwk" {
				in = map[string]any{"private_key": s, "public_key": s}
			}
			if ok, msg := BuiltinValidator(n)(in); !ok && msg == "" {
				t.Fatalf("%s(%q) failed without a message", n, s)
			}
		}
	})
}
