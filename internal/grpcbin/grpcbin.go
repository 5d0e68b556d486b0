// Package grpcbin is a look-alike of moul/grpcbin, the gRPC upstream Kong's
// specs reach through helpers.grpcbin_url (cleartext) and grpcbin_ssl_url
// (TLS): hello.HelloService and part of grpcbin.GRPCBin, with server
// reflection (v1 and v1alpha), so grpcurl-style clients resolve methods
// without .proto files. The services are described by luahost's own .proto
// files (protos/), parsed once, and served with dynamic messages: no
// generated code.
package grpcbin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoparse"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

//go:embed protos/*.proto
var protoFS embed.FS

// HelloProto is the source of hello.proto (hello.HelloService).
func HelloProto() string {
	b, _ := protoFS.ReadFile("protos/hello.proto")
	return string(b)
}

var (
	filesOnce sync.Once
	files     []*desc.FileDescriptor
	filesErr  error
)

// Files are the services' descriptors (hello.proto, grpcbin.proto).
func Files() ([]*desc.FileDescriptor, error) {
	filesOnce.Do(func() {
		src := map[string]string{}
		for _, name := range []string{"hello.proto", "grpcbin.proto"} {
			b, err := protoFS.ReadFile("protos/" + name)
			if err != nil {
				filesErr = err
				return
			}
			src[name] = string(b)
		}
		p := protoparse.Parser{Accessor: protoparse.FileContentsFromMap(src), IncludeSourceCodeInfo: true}
		files, filesErr = p.ParseFiles("hello.proto", "grpcbin.proto")
	})
	return files, filesErr
}

// Server is a running look-alike: a cleartext (h2c) listener and a TLS one.
type Server struct {
	plain, secure *grpc.Server
	// Port and SSLPort are the listeners' ports.
	Port, SSLPort int
	wg            sync.WaitGroup
}

// Start listens on plainAddr (cleartext HTTP/2) and tlsAddr (TLS, a fresh
// self-signed certificate for localhost) and serves until Close.
func Start(plainAddr, tlsAddr string) (*Server, error) {
	fds, err := Files()
	if err != nil {
		return nil, err
	}
	reg := &protoregistry.Files{}
	for _, fd := range fds {
		if err := reg.RegisterFile(fd.UnwrapFile()); err != nil {
			return nil, err
		}
	}
	cert, err := selfSigned()
	if err != nil {
		return nil, err
	}
	s := &Server{
		plain:  grpc.NewServer(),
		secure: grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cert}}))),
	}
	for _, g := range []*grpc.Server{s.plain, s.secure} {
		for _, fd := range fds {
			for _, sd := range fd.GetServices() {
				g.RegisterService(serviceDesc(sd.UnwrapService()), struct{}{})
			}
		}
		opts := reflection.ServerOptions{Services: g, DescriptorResolver: reg, ExtensionResolver: &protoregistry.Types{}}
		reflectionv1.RegisterServerReflectionServer(g, reflection.NewServerV1(opts))
		reflectionv1alpha.RegisterServerReflectionServer(g, reflection.NewServer(opts))
	}
	lnPlain, err := net.Listen("tcp", plainAddr)
	if err != nil {
		return nil, err
	}
	lnTLS, err := net.Listen("tcp", tlsAddr)
	if err != nil {
		lnPlain.Close()
		return nil, err
	}
	s.Port = lnPlain.Addr().(*net.TCPAddr).Port
	s.SSLPort = lnTLS.Addr().(*net.TCPAddr).Port
	s.serve(s.plain, lnPlain)
	s.serve(s.secure, lnTLS)
	return s, nil
}

func (s *Server) serve(g *grpc.Server, ln net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		g.Serve(ln) //nolint:errcheck // ends with Stop
	}()
}

// Close stops both listeners and the calls in flight.
func (s *Server) Close() {
	s.plain.Stop()
	s.secure.Stop()
	s.wg.Wait()
}

// handler answers one method: in is the first request (nil for a client
// or bidirectional stream), recv reads the next (io.EOF at the end), send
// sends a response.
type handler func(ctx context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error

// handlers are the methods served, by full name.
var handlers = map[string]handler{
	"hello.HelloService.SayHello":        sayHello,
	"hello.HelloService.LotsOfReplies":   lotsOfReplies,
	"hello.HelloService.LotsOfGreetings": lotsOfGreetings,
	"hello.HelloService.BidiHello":       bidiHello,
	"grpcbin.GRPCBin.Index":              index,
	"grpcbin.GRPCBin.Empty":              echo(1),
	"grpcbin.GRPCBin.DummyUnary":         echo(1),
	"grpcbin.GRPCBin.DummyServerStream":  echo(10),
	"grpcbin.GRPCBin.DummyClientStream":  lastOf,
	"grpcbin.GRPCBin.DummyBidirectionalStreamStream": func(ctx context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
		return each(recv, func(m *dynamicpb.Message) error { return send(m) })
	},
	"grpcbin.GRPCBin.SpecificError": specificError,
	"grpcbin.GRPCBin.HeadersUnary":  headersUnary,
}

// serviceDesc serves sd's methods through handlers (every method of the
// protos has one).
func serviceDesc(sd protoreflect.ServiceDescriptor) *grpc.ServiceDesc {
	out := &grpc.ServiceDesc{ServiceName: string(sd.FullName()), HandlerType: (*any)(nil), Metadata: sd.ParentFile().Path()}
	methods := sd.Methods()
	for i := 0; i < methods.Len(); i++ {
		md := methods.Get(i)
		h := handlers[string(md.FullName())]
		if h == nil {
			// the protos and the handlers are both ours
			panic("grpcbin: no handler for " + string(md.FullName()))
		}
		out.Streams = append(out.Streams, grpc.StreamDesc{
			StreamName:    string(md.Name()),
			ServerStreams: md.IsStreamingServer(),
			ClientStreams: md.IsStreamingClient(),
			Handler: func(_ any, stream grpc.ServerStream) error {
				recv := func() (*dynamicpb.Message, error) {
					m := dynamicpb.NewMessage(md.Input())
					if err := stream.RecvMsg(m); err != nil {
						return nil, err
					}
					return m, nil
				}
				return h(stream.Context(), md, recv, func(m proto.Message) error { return stream.SendMsg(m) })
			},
		})
	}
	return out
}

// each calls f with each request until the client's end of stream.
func each(recv func() (*dynamicpb.Message, error), f func(*dynamicpb.Message) error) error {
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(m); err != nil {
			return err
		}
	}
}

// greeting is a HelloRequest's greeting, "noname" when it has none
// (grpcbin's answer to an empty request: "hello noname").
func greeting(m *dynamicpb.Message) string {
	f := m.Descriptor().Fields().ByName("greeting")
	if !m.Has(f) {
		return "noname"
	}
	return m.Get(f).String()
}

func reply(md protoreflect.MethodDescriptor, text string) *dynamicpb.Message {
	out := dynamicpb.NewMessage(md.Output())
	out.Set(md.Output().Fields().ByName("reply"), protoreflect.ValueOfString(text))
	return out
}

func sayHello(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	in, err := recv()
	if err != nil {
		return err
	}
	return send(reply(md, "hello "+greeting(in)))
}

func lotsOfReplies(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	in, err := recv()
	if err != nil {
		return err
	}
	for i := 0; i < 10; i++ {
		if err := send(reply(md, fmt.Sprintf("hello %s reply %d", greeting(in), i))); err != nil {
			return err
		}
	}
	return nil
}

func lotsOfGreetings(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	var names []string
	if err := each(recv, func(m *dynamicpb.Message) error { names = append(names, greeting(m)); return nil }); err != nil {
		return err
	}
	return send(reply(md, "hello "+strings.Join(names, ", ")))
}

func bidiHello(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	return each(recv, func(m *dynamicpb.Message) error { return send(reply(md, "hello "+greeting(m))) })
}

// echo sends the request back n times.
func echo(n int) handler {
	return func(_ context.Context, _ protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
		in, err := recv()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := send(in); err != nil {
				return err
			}
		}
		return nil
	}
}

// lastOf sends back the last request of the stream (an empty message for
// none).
func lastOf(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	last := dynamicpb.NewMessage(md.Output())
	if err := each(recv, func(m *dynamicpb.Message) error { last = m; return nil }); err != nil {
		return err
	}
	return send(last)
}

func index(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	if _, err := recv(); err != nil {
		return err
	}
	out := dynamicpb.NewMessage(md.Output())
	out.Set(md.Output().Fields().ByName("description"), protoreflect.ValueOfString("gRPC testing server (luahost)"))
	eps := out.Mutable(md.Output().Fields().ByName("endpoints")).List()
	epDesc := md.Output().Fields().ByName("endpoints").Message()
	fds, _ := Files()
	for _, fd := range fds {
		for _, sd := range fd.GetServices() {
			for _, m := range sd.GetMethods() {
				ep := dynamicpb.NewMessage(epDesc)
				ep.Set(epDesc.Fields().ByName("path"), protoreflect.ValueOfString("/"+sd.GetFullyQualifiedName()+"/"+m.GetName()))
				eps.Append(protoreflect.ValueOfMessage(ep))
			}
		}
	}
	return send(out)
}

func specificError(_ context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), _ func(proto.Message) error) error {
	in, err := recv()
	if err != nil {
		return err
	}
	f := md.Input().Fields()
	return status.Error(codes.Code(in.Get(f.ByName("code")).Uint()), in.Get(f.ByName("reason")).String())
}

func headersUnary(ctx context.Context, md protoreflect.MethodDescriptor, recv func() (*dynamicpb.Message, error), send func(proto.Message) error) error {
	if _, err := recv(); err != nil {
		return err
	}
	out := dynamicpb.NewMessage(md.Output())
	mf := md.Output().Fields().ByName("Metadata")
	m := out.Mutable(mf).Map()
	valDesc := mf.MapValue().Message()
	in, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range in {
		v := dynamicpb.NewMessage(valDesc)
		l := v.Mutable(valDesc.Fields().ByName("values")).List()
		for _, s := range vs {
			l.Append(protoreflect.ValueOfString(s))
		}
		m.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfMessage(v))
	}
	return send(out)
}

// selfSigned is the TLS listener's certificate (CN localhost, ECDSA P-256).
func selfSigned() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost", "grpcbin"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
