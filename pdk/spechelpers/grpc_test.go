package spechelpers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/luahost/luahost/internal/grpcbin"
)

// The command line as Kong's grpc_client builds it: the program's word is
// dropped, Kong's default -proto is read from grpcbin's hello.proto when
// not on disk, and a line no shell could split is the shell's exit 2.
func TestGRPCurlCommand(t *testing.T) {
	s, err := grpcbin.Start("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	line := fmt.Sprintf(`bin/grpcurl -plaintext  -proto ./spec/fixtures/grpc/hello.proto -d '{"greeting":"x"}' 127.0.0.1:%d hello.HelloService.SayHello`, s.Port)
	code, out, errs := grpcurlCommand(line)
	if code != 0 || out != "{\n  \"reply\": \"hello x\"\n}\n" || errs != "" {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	code, out, errs = grpcurlCommand(`bin/grpcurl -d '{"greeting":"it's"}' 127.0.0.1:1 hello.HelloService.SayHello`)
	if code != 2 || out != "" || !strings.HasPrefix(errs, "sh: ") {
		t.Fatalf("%d %q %q", code, out, errs)
	}
}
