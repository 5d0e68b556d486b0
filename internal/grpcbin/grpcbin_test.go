package grpcbin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/luahost/luahost/internal/grpcbin"
	"github.com/luahost/luahost/internal/grpcurl"
)

// The grpcbin.GRPCBin methods, called by reflection over both listeners.
func TestGRPCBinMethods(t *testing.T) {
	s, err := grpcbin.Start("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct{ flags, method, data, want string }{
		{"-plaintext", "Index", "", `"path": "/hello.HelloService/SayHello"`},
		{"-insecure", "Empty", "", "{}\n"},
		{"-plaintext", "DummyUnary", `{"f_int32":3,"f_strings":["a","b"]}`, "{\n  \"fStrings\": [\n    \"a\",\n    \"b\"\n  ],\n  \"fInt32\": 3\n}\n"},
		{"-plaintext", "DummyServerStream", `{"f_string":"s"}`, strings.Repeat("{\n  \"fString\": \"s\"\n}\n", 10)},
		{"-insecure", "DummyClientStream", `{"f_string":"a"} {"f_string":"b"}`, "{\n  \"fString\": \"b\"\n}\n"},
		{"-plaintext", "DummyBidirectionalStreamStream", `{"f_bool":true} {"f_int64":"7"}`, "{\n  \"fBool\": true\n}\n{\n  \"fInt64\": \"7\"\n}\n"},
	} {
		port := s.Port
		if tc.flags == "-insecure" {
			port = s.SSLPort
		}
		var out, errs strings.Builder
		args := []string{tc.flags, "-d", tc.data, fmt.Sprintf("127.0.0.1:%d", port), "grpcbin.GRPCBin/" + tc.method}
		code := grpcurl.Run(context.Background(), args, &out, &errs, grpcurl.Options{})
		if code != 0 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: %d %q %q", tc.method, code, out.String(), errs.String())
		}
	}
}
