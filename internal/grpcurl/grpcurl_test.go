package grpcurl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/luahost/luahost/internal/grpcbin"
)

func startBin(t *testing.T) *grpcbin.Server {
	t.Helper()
	s, err := grpcbin.Start("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// run runs a command line as Kong's grpc_client hands it to the shell
// (without the program's name).
func run(t *testing.T, line string, o Options) (code int, stdout, stderr string) {
	t.Helper()
	args, err := Split(line)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	code = Run(context.Background(), args, &out, &errs, o)
	return code, out.String(), errs.String()
}

func TestSplit(t *testing.T) {
	for line, want := range map[string][]string{
		`-d '{"greeting":"world!"}' -H 'kong-debug: 1' h:1 svc.M`: {"-d", `{"greeting":"world!"}`, "-H", "kong-debug: 1", "h:1", "svc.M"},
		`-v  -plaintext	 a\ b "x \"y\" \$z \n" it's'q`:            {"-v", "-plaintext", "a b", `x "y" $z \n`, "itsq"},
		`''`:  {""},
		`   `: nil,
	} {
		if strings.HasPrefix(line, "-v") {
			// an unterminated quote is an error, as in a shell
			if _, err := Split(line + "'"); err == nil {
				t.Errorf("%q: no error for the unterminated quote", line+"'")
			}
		}
		got, err := Split(line)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
	if _, err := Split(`"abc`); err == nil {
		t.Error(`Split("abc): no error`)
	}
}

func TestInvokeByReflection(t *testing.T) {
	s := startBin(t)
	code, out, errs := run(t, fmt.Sprintf(`-plaintext -d '{"greeting":"world!"}' 127.0.0.1:%d hello.HelloService.SayHello`, s.Port), Options{})
	if code != 0 || out != "{\n  \"reply\": \"hello world!\"\n}\n" || errs != "" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	// no body: an empty request, grpcbin's "noname"
	code, out, _ = run(t, fmt.Sprintf(`-plaintext 127.0.0.1:%d hello.HelloService/SayHello`, s.Port), Options{})
	if code != 0 || out != "{\n  \"reply\": \"hello noname\"\n}\n" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
}

func TestVerbose(t *testing.T) {
	s := startBin(t)
	code, out, errs := run(t, fmt.Sprintf(`-v -H 'kong-debug: 1' -H 'x-b: 2' -plaintext -d '{"greeting":"world!"}' 127.0.0.1:%d hello.HelloService.SayHello`, s.Port), Options{})
	want := "\nResolved method descriptor:\n// one greeting, one reply\nrpc SayHello ( .hello.HelloRequest ) returns ( .hello.HelloResponse );\n" +
		"\nRequest metadata to send:\nkong-debug: 1\nx-b: 2\n" +
		"\nResponse headers received:\ncontent-type: application/grpc\n" +
		"\nResponse contents:\n{\n  \"reply\": \"hello world!\"\n}\n" +
		"\nResponse trailers received:\n(empty)\nSent 1 request and received 1 response\n"
	if code != 0 || out != want || errs != "" {
		t.Fatalf("code %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errs, out, want)
	}
}

func TestErrorStatus(t *testing.T) {
	s := startBin(t)
	code, out, errs := run(t, fmt.Sprintf(`-plaintext -d '{"code":7,"reason":"nope"}' 127.0.0.1:%d grpcbin.GRPCBin.SpecificError`, s.Port), Options{})
	if code != 64+7 || out != "" || errs != "ERROR:\n  Code: PermissionDenied\n  Message: nope\n" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, _ = run(t, fmt.Sprintf(`-v -plaintext -d '{"code":16,"reason":"who"}' 127.0.0.1:%d grpcbin.GRPCBin.SpecificError`, s.Port), Options{})
	if code != 64+16 || !strings.HasSuffix(out, "Sent 1 request and received 0 responses\n") {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	// -format-error: the status as JSON
	code, _, errs = run(t, fmt.Sprintf(`-format-error -plaintext -d '{"code":5,"reason":"gone"}' 127.0.0.1:%d grpcbin.GRPCBin.SpecificError`, s.Port), Options{})
	if code != 64+5 || !strings.Contains(errs, `"code": 5`) || !strings.Contains(errs, `"message": "gone"`) {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}

func TestStreams(t *testing.T) {
	s := startBin(t)
	code, out, _ := run(t, fmt.Sprintf(`-insecure -d '{"greeting":"a"} {"greeting":"b"}' 127.0.0.1:%d hello.HelloService.BidiHello`, s.SSLPort), Options{})
	if code != 0 || out != "{\n  \"reply\": \"hello a\"\n}\n{\n  \"reply\": \"hello b\"\n}\n" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	code, out, _ = run(t, fmt.Sprintf(`-insecure -d '{"greeting":"a"} {"greeting":"b"}' 127.0.0.1:%d hello.HelloService.LotsOfGreetings`, s.SSLPort), Options{})
	if code != 0 || out != "{\n  \"reply\": \"hello a, b\"\n}\n" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	code, out, _ = run(t, fmt.Sprintf(`-v -insecure -d '{"greeting":"x"}' 127.0.0.1:%d hello.HelloService.LotsOfReplies`, s.SSLPort), Options{})
	if code != 0 || strings.Count(out, "Response contents:") != 10 || !strings.Contains(out, `"hello x reply 9"`) ||
		!strings.HasSuffix(out, "Sent 1 request and received 10 responses\n") {
		t.Fatalf("code %d, stdout %q", code, out)
	}
}

func TestTLS(t *testing.T) {
	s := startBin(t)
	// verification on (no -insecure): the self-signed certificate fails
	code, _, errs := run(t, fmt.Sprintf(`127.0.0.1:%d hello.HelloService.SayHello`, s.SSLPort), Options{})
	if code != 1 || !strings.HasPrefix(errs, fmt.Sprintf("Failed to dial target host \"127.0.0.1:%d\": ", s.SSLPort)) {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	code, out, _ := run(t, fmt.Sprintf(`-insecure -authority grpcbin 127.0.0.1:%d hello.HelloService.SayHello`, s.SSLPort), Options{})
	if code != 0 || out != "{\n  \"reply\": \"hello noname\"\n}\n" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
}

func TestAuthorityAndUserAgent(t *testing.T) {
	s := startBin(t)
	code, out, errs := run(t, fmt.Sprintf(`-plaintext -authority example.test -user-agent 'spec/1' -rpc-header 'x-only-rpc: 1' 127.0.0.1:%d grpcbin.GRPCBin.HeadersUnary`, s.Port), Options{})
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	for _, want := range []string{`"example.test"`, `"spec/1 grpcurl/` + Version, `"x-only-rpc"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in %s", want, out)
		}
	}
}

func TestProtoFiles(t *testing.T) {
	s := startBin(t)
	kong := "./spec/fixtures/grpc/hello.proto"
	line := fmt.Sprintf(`-plaintext -proto %s -d '{"greeting":"p"}' 127.0.0.1:%d hello.HelloService.SayHello`, kong, s.Port)
	// missing and no source for it
	code, _, errs := run(t, line, Options{})
	if code != 1 || !strings.HasPrefix(errs, "Failed to process proto source files.: ") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	o := Options{ProtoSources: map[string]string{"spec/fixtures/grpc/hello.proto": grpcbin.HelloProto()}}
	code, out, errs := run(t, line, o)
	if code != 0 || out != "{\n  \"reply\": \"hello p\"\n}\n" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	// a file on disk, with -import-path; a method it lacks fails without
	// asking the server (no reflection with -proto)
	dir := t.TempDir()
	src := "syntax = \"proto2\";\npackage hello;\nservice HelloService { rpc SayHello(Req) returns (Res); rpc Other(Req) returns (Res); }\n" +
		"message Req { optional string greeting = 1; }\nmessage Res { required string reply = 1; }\n"
	if err := os.WriteFile(filepath.Join(dir, "h.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, fmt.Sprintf(`-plaintext -import-path %s -proto h.proto -d '{"greeting":"f"}' 127.0.0.1:%d hello.HelloService.SayHello`, dir, s.Port), o)
	if code != 0 || out != "{\n  \"reply\": \"hello f\"\n}\n" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	code, _, errs = run(t, fmt.Sprintf(`-plaintext -import-path %s -proto h.proto 127.0.0.1:%d hello.HelloService.Missing`, dir, s.Port), o)
	if code != 1 || errs != "Error invoking method \"hello.HelloService.Missing\": service \"hello.HelloService\" does not include a method named \"Missing\"\n" {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	// the server's Unimplemented, through the file's method
	code, _, errs = run(t, fmt.Sprintf(`-plaintext -import-path %s -proto h.proto 127.0.0.1:%d hello.HelloService.Other`, dir, s.Port), o)
	if code != 64+12 || !strings.HasPrefix(errs, "ERROR:\n  Code: Unimplemented\n") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}

func TestUsageAndFailures(t *testing.T) {
	s := startBin(t)
	for line, want := range map[string]string{
		`-plaintext -insecure h:1 a.B.C`:    "The -insecure argument can only be used with TLS.\nTry 'grpcurl -help' for more details.\n",
		`-plaintext`:                        "Too few arguments.\nTry 'grpcurl -help' for more details.\n",
		`-plaintext h:1 a.B.C extra`:        "Too many arguments.\nTry 'grpcurl -help' for more details.\n",
		`-format xml -plaintext h:1 a.B.C`:  "The -format option must be 'json' or 'text'.\nTry 'grpcurl -help' for more details.\n",
		`-max-time -1 -plaintext h:1 a.B.C`: "The -max-time argument must not be negative.\nTry 'grpcurl -help' for more details.\n",
	} {
		code, out, errs := run(t, line, Options{})
		if code != 2 || out != "" || errs != want {
			t.Errorf("%s: code %d, stdout %q, stderr %q", line, code, out, errs)
		}
	}
	// an unknown flag: the flag package's message and usage, exit 2
	code, _, errs := run(t, `-nope h:1 a.B.C`, Options{})
	if code != 2 || !strings.HasPrefix(errs, "flag provided but not defined: -nope\n") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, fmt.Sprintf(`-plaintext 127.0.0.1:%d nope.Svc.M`, s.Port), Options{})
	if code != 1 || errs != "Error invoking method \"nope.Svc.M\": target server does not expose service \"nope.Svc\"\n" {
		t.Errorf("code %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, fmt.Sprintf(`-plaintext -d '{"nope":1}' 127.0.0.1:%d hello.HelloService.SayHello`, s.Port), Options{})
	if code != 1 || !strings.HasPrefix(errs, "Error invoking method \"hello.HelloService.SayHello\": error getting request data: ") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
	code, out, _ := run(t, fmt.Sprintf(`-plaintext -allow-unknown-fields -d '{"nope":1}' 127.0.0.1:%d hello.HelloService.SayHello`, s.Port), Options{})
	if code != 0 || !strings.Contains(out, "hello noname") {
		t.Errorf("code %d, stdout %q", code, out)
	}
	// nothing listening: the dial fails (after -connect-timeout at most)
	code, _, errs = run(t, `-connect-timeout 0.5 -plaintext 127.0.0.1:1 hello.HelloService.SayHello`, Options{})
	if code != 1 || !strings.HasPrefix(errs, `Failed to dial target host "127.0.0.1:1": `) {
		t.Errorf("code %d, stderr %q", code, errs)
	}
}

func TestListDescribe(t *testing.T) {
	s := startBin(t)
	code, out, _ := run(t, fmt.Sprintf(`-plaintext 127.0.0.1:%d list`, s.Port), Options{})
	if code != 0 || !strings.Contains(out, "grpcbin.GRPCBin\nhello.HelloService\n") {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	code, out, _ = run(t, fmt.Sprintf(`-plaintext 127.0.0.1:%d list hello.HelloService`, s.Port), Options{})
	if code != 0 || out != "hello.HelloService.BidiHello\nhello.HelloService.LotsOfGreetings\nhello.HelloService.LotsOfReplies\nhello.HelloService.SayHello\n" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	code, out, _ = run(t, fmt.Sprintf(`-plaintext 127.0.0.1:%d describe hello.HelloRequest`, s.Port), Options{})
	if code != 0 || !strings.HasPrefix(out, "hello.HelloRequest is a message:\nmessage HelloRequest {\n  optional string greeting = 1;\n}\n") {
		t.Fatalf("code %d, stdout %q", code, out)
	}
}
