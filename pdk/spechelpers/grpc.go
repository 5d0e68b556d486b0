package spechelpers

import (
	"context"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/internal/grpcbin"
	"github.com/luahost/luahost/internal/grpcurl"
)

// KongHelloProto is Kong's MOCK_GRPC_UPSTREAM_PROTO_PATH, grpc_client's
// default -proto: a file of Kong's repository, which a plugin's does not
// have, so a run that does not find it reads grpcbin's hello.proto.
const KongHelloProto = "spec/fixtures/grpc/hello.proto"

// grpcurlCommand runs the command line Kong's grpc_client builds for its
// shell ("bin/grpcurl <flags> host:port service") in-process: the words
// after the program's are grpcurl's arguments. It returns the exit code,
// stdout and stderr; a line the shell could not split is the shell's exit
// code 2.
func grpcurlCommand(line string) (int, string, string) {
	words, err := grpcurl.Split(line)
	if err != nil {
		return 2, "", "sh: " + err.Error() + "\n"
	}
	if len(words) > 0 {
		words = words[1:]
	}
	var out, errs strings.Builder
	code := grpcurl.Run(context.Background(), words, &out, &errs, grpcurl.Options{
		ProtoSources: map[string]string{KongHelloProto: grpcbin.HelloProto()},
	})
	return code, out.String(), errs.String()
}

func bindGRPC(L *lua.LState, mod *lua.LTable, nodes Nodes) {
	L.SetFuncs(mod, map[string]lua.LGFunction{
		// grpcurl(command line) -> exit code, stdout, stderr
		"grpcurl": func(L *lua.LState) int {
			code, out, errs := grpcurlCommand(L.CheckString(1))
			L.Push(lua.LNumber(code))
			L.Push(lua.LString(out))
			L.Push(lua.LString(errs))
			return 3
		},
		// grpcbin_ports() -> port, ssl port of the run's grpcbin (started
		// on first use)
		"grpcbin_ports": func(L *lua.LState) int {
			port, sslPort, err := nodes.GRPCBin()
			if err != nil {
				return fail(L, err)
			}
			L.Push(lua.LNumber(port))
			L.Push(lua.LNumber(sslPort))
			return 2
		},
	})
}
