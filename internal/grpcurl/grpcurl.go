// Package grpcurl runs a grpcurl command line in-process: the command Kong's
// spec helpers (grpc_client, proxy_client_grpc, proxy_client_grpcs) build
// and hand to a shell, parsed as a shell would split it, with grpcurl's
// flags, exit codes and output (the JSON replies; with -v the method
// descriptor, request metadata, response headers, contents and trailers;
// errors as "ERROR:\n  Code: ...\n  Message: ..." on stderr). It drives the
// grpcurl library (github.com/fullstorydev/grpcurl); its command, which
// this replaces, is not a library.
package grpcurl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fullstorydev/grpcurl"
	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoparse"
	"github.com/jhump/protoreflect/grpcreflect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Version is the grpcurl release whose behaviour this follows (its
// user-agent says it).
const Version = "v1.9.4"

// Options are what a run may find besides its command line.
type Options struct {
	// ProtoSources are .proto sources by path, read when a -proto file
	// of that path (cleaned, relative to the working directory) is not on
	// disk: Kong's default -proto, ./spec/fixtures/grpc/hello.proto, is in
	// Kong's repository, not in a plugin's.
	ProtoSources map[string]string
}

// usageError is a command-line mistake: grpcurl prints it with a hint and
// exits 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// failure is a run that failed: message (and err) on stderr, exit 1.
type failure struct {
	msg string
	err error
}

func (f *failure) Error() string {
	if f.err == nil {
		return f.msg
	}
	return f.msg + ": " + f.err.Error()
}

func fail(err error, format string, args ...any) error {
	return &failure{msg: fmt.Sprintf(format, args...), err: err}
}

// Run runs grpcurl with args (the arguments after the program's name),
// writing what it prints to stdout and stderr, and returns its exit code:
// 0, 1 for a failure before or around the call, 2 for a usage error, 64 +
// the status code for a call that ended with an error status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, o Options) int {
	f, err := parseFlags(args, stderr)
	if err == nil {
		var code int
		code, err = f.run(ctx, stdout, stderr, o)
		if err == nil {
			return code
		}
	}
	var u usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		fmt.Fprintln(stderr, u)
		fmt.Fprintln(stderr, "Try 'grpcurl -help' for more details.")
		return 2
	case errors.Is(err, errParse):
		// the flag package printed the error and the usage
		return 2
	}
	fmt.Fprintln(stderr, err)
	return 1
}

var errParse = errors.New("flag parse error")

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// optionalBool is a bool flag that knows whether it was given.
type optionalBool struct{ set, val bool }

func (b *optionalBool) String() string {
	if !b.set {
		return "unset"
	}
	return strconv.FormatBool(b.val)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.val = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// flags are a command line's, as grpcurl defines them.
type flags struct {
	plaintext, insecure, expandHeaders, allowUnknown, formatError bool
	emitDefaults, verbose, veryVerbose, msgTemplate               bool
	cacert, cert, key, authority, userAgent, data, format         string
	serverName                                                    string
	connectTimeout, keepaliveTime, maxTime                        float64
	maxMsgSz                                                      int
	headers, rpcHeaders, reflHeaders, protoset, protoFiles        multi
	importPaths                                                   multi
	reflection                                                    optionalBool
	args                                                          []string
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{reflection: optionalBool{val: true}}
	fs := flag.NewFlagSet("grpcurl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.plaintext, "plaintext", false, "use plain-text HTTP/2 (no TLS)")
	fs.BoolVar(&f.insecure, "insecure", false, "skip server certificate and domain verification")
	fs.StringVar(&f.cacert, "cacert", "", "file of trusted root certificates (PEM)")
	fs.StringVar(&f.cert, "cert", "", "client certificate file (PEM)")
	fs.StringVar(&f.key, "key", "", "client private key file (PEM)")
	fs.BoolVar(&f.expandHeaders, "expand-headers", false, "expand ${NAME} environment variables in headers")
	fs.StringVar(&f.authority, "authority", "", "the :authority pseudo-header (and TLS server name)")
	fs.StringVar(&f.userAgent, "user-agent", "", "prepended to the user-agent")
	fs.StringVar(&f.data, "d", "", "request data (JSON or text, several messages for streams)")
	fs.StringVar(&f.format, "format", "json", "request and response format: json or text")
	fs.BoolVar(&f.allowUnknown, "allow-unknown-fields", false, "ignore unknown fields in JSON requests")
	fs.Float64Var(&f.connectTimeout, "connect-timeout", 0, "seconds to wait for the connection")
	fs.BoolVar(&f.formatError, "format-error", false, "print an error status in the -format")
	fs.Float64Var(&f.keepaliveTime, "keepalive-time", 0, "seconds between keepalive probes")
	fs.Float64Var(&f.maxTime, "max-time", 0, "seconds the whole operation may take")
	fs.IntVar(&f.maxMsgSz, "max-msg-sz", 0, "largest response message accepted (bytes)")
	fs.BoolVar(&f.emitDefaults, "emit-defaults", false, "print default values in JSON responses")
	fs.BoolVar(&f.msgTemplate, "msg-template", false, "describe: also print a JSON template of a message")
	fs.BoolVar(&f.verbose, "v", false, "verbose output")
	fs.BoolVar(&f.veryVerbose, "vv", false, "very verbose output")
	fs.StringVar(&f.serverName, "servername", "", "TLS server name (prefer -authority)")
	fs.Var(&f.headers, "H", "header 'name: value' for the call and reflection (repeatable)")
	fs.Var(&f.rpcHeaders, "rpc-header", "header for the call only (repeatable)")
	fs.Var(&f.reflHeaders, "reflect-header", "header for reflection only (repeatable)")
	fs.Var(&f.protoset, "protoset", "compiled descriptor set file (repeatable)")
	fs.Var(&f.protoFiles, "proto", ".proto source file (repeatable)")
	fs.Var(&f.importPaths, "import-path", "directory to find -proto imports in (repeatable)")
	fs.Var(&f.reflection, "use-reflection", "use server reflection (default: true without -proto and -protoset)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errParse
	}
	f.args = fs.Args()
	return f, nil
}

func seconds(s float64) time.Duration {
	d := s * float64(time.Second)
	if d > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// check is grpcurl's validation of the flags together.
func (f *flags) check() error {
	usetls := !f.plaintext
	switch {
	case f.connectTimeout < 0:
		return usageError("The -connect-timeout argument must not be negative.")
	case f.keepaliveTime < 0:
		return usageError("The -keepalive-time argument must not be negative.")
	case f.maxTime < 0:
		return usageError("The -max-time argument must not be negative.")
	case f.maxMsgSz < 0:
		return usageError("The -max-msg-sz argument must not be negative.")
	case f.insecure && !usetls:
		return usageError("The -insecure argument can only be used with TLS.")
	case f.cert != "" && !usetls:
		return usageError("The -cert argument can only be used with TLS.")
	case f.key != "" && !usetls:
		return usageError("The -key argument can only be used with TLS.")
	case (f.key == "") != (f.cert == ""):
		return usageError("The -cert and -key arguments must be used together and both be present.")
	case f.format != "json" && f.format != "text":
		return usageError("The -format option must be 'json' or 'text'.")
	}
	return nil
}

func (f *flags) run(ctx context.Context, stdout, stderr io.Writer, o Options) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	if f.emitDefaults && f.format != "json" {
		fmt.Fprintln(stderr, "Warning: The -emit-defaults is only used when using json format.")
	}
	args := f.args
	if len(args) == 0 {
		return 0, usageError("Too few arguments.")
	}
	var target string
	if args[0] != "list" && args[0] != "describe" {
		target, args = args[0], args[1:]
	}
	if len(args) == 0 {
		return 0, usageError("Too few arguments.")
	}
	verb := "invoke"
	if args[0] == "list" || args[0] == "describe" {
		verb, args = args[0], args[1:]
	}
	var symbol string
	if verb == "invoke" {
		if len(args) == 0 {
			return 0, usageError("Too few arguments.")
		}
		symbol, args = args[0], args[1:]
	} else {
		if f.data != "" {
			fmt.Fprintln(stderr, "Warning: The -d argument is not used with 'list' or 'describe' verb.")
		}
		if len(args) > 0 {
			symbol, args = args[0], args[1:]
		}
	}
	if len(args) > 0 {
		return 0, usageError("Too many arguments.")
	}
	if verb == "invoke" && target == "" {
		return 0, usageError("No host:port specified.")
	}
	if len(f.protoset) == 0 && len(f.protoFiles) == 0 && target == "" {
		return 0, usageError("No host:port specified, no protoset specified, and no proto sources specified.")
	}
	if len(f.protoset) > 0 && len(f.protoFiles) > 0 {
		return 0, usageError("Use either -protoset files or -proto files, but not both.")
	}
	if len(f.importPaths) > 0 && len(f.protoFiles) == 0 {
		fmt.Fprintln(stderr, "Warning: The -import-path argument is not used unless -proto files are used.")
	}
	if !f.reflection.val && len(f.protoset) == 0 && len(f.protoFiles) == 0 {
		return 0, usageError("No protoset files or proto files specified and -use-reflection set to false.")
	}
	if !f.reflection.set && (len(f.protoset) > 0 || len(f.protoFiles) > 0) {
		f.reflection.val = false
	}
	verbosity := 0
	if f.verbose {
		verbosity = 1
	}
	if f.veryVerbose {
		verbosity = 2
	}
	if f.expandHeaders {
		for _, hs := range []*multi{&f.headers, &f.rpcHeaders, &f.reflHeaders} {
			x, err := grpcurl.ExpandHeaders(*hs)
			if err != nil {
				return 0, fail(err, "Failed to expand additional headers")
			}
			*hs = x
		}
	}

	if f.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, seconds(f.maxTime))
		defer cancel()
	}

	var fileSource grpcurl.DescriptorSource
	var err error
	switch {
	case len(f.protoset) > 0:
		if fileSource, err = grpcurl.DescriptorSourceFromProtoSets(f.protoset...); err != nil {
			return 0, fail(err, "Failed to process proto descriptor sets.")
		}
	case len(f.protoFiles) > 0:
		if fileSource, err = protoFileSource(f.importPaths, f.protoFiles, o.ProtoSources); err != nil {
			return 0, fail(err, "Failed to process proto source files.")
		}
	}

	var cc *grpc.ClientConn
	defer func() {
		if cc != nil {
			cc.Close()
		}
	}()
	source := fileSource
	if f.reflection.val {
		if cc, err = f.dial(ctx, target); err != nil {
			return 0, err
		}
		md := grpcurl.MetadataFromHeaders(append(append([]string(nil), f.headers...), f.reflHeaders...))
		rc := grpcreflect.NewClientAuto(metadata.NewOutgoingContext(ctx, md), cc)
		rc.AllowMissingFileDescriptors()
		defer rc.Reset()
		source = grpcurl.DescriptorSourceFromServer(ctx, rc)
		if fileSource != nil {
			source = composite{source, fileSource}
		}
	}

	switch verb {
	case "list":
		return 0, list(stdout, source, symbol)
	case "describe":
		return 0, f.describe(stdout, source, symbol)
	}
	if cc == nil {
		if cc, err = f.dial(ctx, target); err != nil {
			return 0, err
		}
	}
	in := strings.NewReader(f.data)
	if f.data == "@" {
		in = strings.NewReader("") // no standard input in-process
	}
	parser, formatter, err := grpcurl.RequestParserAndFormatter(grpcurl.Format(f.format), source, in, grpcurl.FormatOptions{
		EmitJSONDefaultFields: f.emitDefaults,
		IncludeTextSeparator:  verbosity == 0,
		AllowUnknownFields:    f.allowUnknown,
	})
	if err != nil {
		return 0, fail(err, "Failed to construct request parser and formatter for %q", f.format)
	}
	h := &grpcurl.DefaultEventHandler{Out: stdout, Formatter: formatter, VerbosityLevel: verbosity}
	headers := append(append([]string(nil), f.headers...), f.rpcHeaders...)
	if err := grpcurl.InvokeRPC(ctx, source, cc, symbol, headers, h, parser.Next); err != nil {
		st, ok := status.FromError(err)
		if !ok || !f.formatError {
			return 0, fail(err, "Error invoking method %q", symbol)
		}
		h.Status = st
	}
	if verbosity > 0 {
		fmt.Fprintf(stdout, "Sent %s and received %s\n", plural(parser.NumRequests(), "request"), plural(h.NumResponses, "response"))
	}
	if h.Status.Code() == codes.OK {
		return 0, nil
	}
	if f.formatError {
		out, err := formatter(h.Status.Proto())
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: %v", err)
		}
		fmt.Fprint(stderr, out)
	} else {
		grpcurl.PrintStatus(stderr, h.Status, formatter)
	}
	// grpcurl's exit code for an error status: 64 + the code
	return 64 + int(h.Status.Code()), nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// dial connects to target as grpcurl does: TLS unless -plaintext, a 10 s
// connection timeout unless -connect-timeout, -authority (or -servername)
// as the :authority and TLS server name.
func (f *flags) dial(ctx context.Context, target string) (*grpc.ClientConn, error) {
	wait := 10 * time.Second
	if f.connectTimeout > 0 {
		wait = seconds(f.connectTimeout)
	}
	dctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var opts []grpc.DialOption
	if f.keepaliveTime > 0 {
		d := seconds(f.keepaliveTime)
		opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: d, Timeout: d}))
	}
	if f.maxMsgSz > 0 {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(f.maxMsgSz)))
	}
	var creds credentials.TransportCredentials
	if f.plaintext {
		if f.authority != "" {
			opts = append(opts, grpc.WithAuthority(f.authority))
		}
	} else {
		conf, err := grpcurl.ClientTLSConfig(f.insecure, f.cacert, f.cert, f.key)
		if err != nil {
			return nil, fail(err, "Failed to create TLS config")
		}
		creds = credentials.NewTLS(conf)
		name := f.serverName
		if f.serverName != "" && f.authority != "" && f.serverName != f.authority {
			return nil, usageError("Cannot specify different values for -servername and -authority.")
		}
		if name == "" {
			name = f.authority
		}
		if name != "" {
			opts = append(opts, grpc.WithAuthority(name))
		}
	}
	ua := "grpcurl/" + Version
	if f.userAgent != "" {
		ua = f.userAgent + " " + ua
	}
	opts = append(opts, grpc.WithUserAgent(ua))
	cc, err := grpcurl.BlockingDial(dctx, "", target, creds, opts...)
	if err != nil {
		return nil, fail(err, "Failed to dial target host %q", target)
	}
	return cc, nil
}

// protoFileSource parses the -proto files as grpcurl does (import paths
// inferred when none are given), reading a file missing from disk from
// sources when it has it.
func protoFileSource(importPaths, names []string, sources map[string]string) (grpcurl.DescriptorSource, error) {
	names, err := protoparse.ResolveFilenames(importPaths, names...)
	if err != nil {
		return nil, err
	}
	p := protoparse.Parser{
		ImportPaths:           importPaths,
		InferImportPaths:      len(importPaths) == 0,
		IncludeSourceCodeInfo: true,
		Accessor: func(name string) (io.ReadCloser, error) {
			r, err := os.Open(name)
			if err != nil && errors.Is(err, os.ErrNotExist) {
				if src, ok := sources[filepath.Clean(name)]; ok {
					return io.NopCloser(strings.NewReader(src)), nil
				}
			}
			return r, err
		},
	}
	fds, err := p.ParseFiles(names...)
	if err != nil {
		return nil, fmt.Errorf("could not parse given files: %v", err)
	}
	return grpcurl.DescriptorSourceFromFileDescriptors(fds...)
}

func list(w io.Writer, source grpcurl.DescriptorSource, symbol string) error {
	if symbol == "" {
		svcs, err := grpcurl.ListServices(source)
		if err != nil {
			return fail(err, "Failed to list services")
		}
		if len(svcs) == 0 {
			fmt.Fprintln(w, "(No services)")
		}
		for _, s := range svcs {
			fmt.Fprintln(w, s)
		}
		return nil
	}
	methods, err := grpcurl.ListMethods(source, symbol)
	if err != nil {
		return fail(err, "Failed to list methods for service %q", symbol)
	}
	if len(methods) == 0 {
		fmt.Fprintln(w, "(No methods)")
	}
	for _, m := range methods {
		fmt.Fprintln(w, m)
	}
	return nil
}

// describe prints the descriptors of symbol (every service when "").
func (f *flags) describe(w io.Writer, source grpcurl.DescriptorSource, symbol string) error {
	symbols := []string{symbol}
	if symbol == "" {
		svcs, err := source.ListServices()
		if err != nil {
			return fail(err, "Failed to list services")
		}
		if len(svcs) == 0 {
			fmt.Fprintln(w, "Server returned an empty list of exposed services")
		}
		symbols = svcs
	}
	for _, s := range symbols {
		s = strings.TrimPrefix(s, ".")
		d, err := source.FindSymbol(s)
		if err != nil {
			return fail(err, "Failed to resolve symbol %q", s)
		}
		txt, err := grpcurl.GetDescriptorText(d, source)
		if err != nil {
			return fail(err, "Failed to describe symbol %q", s)
		}
		fmt.Fprintf(w, "%s is %s:\n%s\n", d.GetFullyQualifiedName(), kindOf(d), txt)
		if md, ok := d.(*desc.MessageDescriptor); ok && f.msgTemplate {
			_, formatter, err := grpcurl.RequestParserAndFormatter(grpcurl.Format(f.format), source, nil, grpcurl.FormatOptions{EmitJSONDefaultFields: true})
			if err != nil {
				return fail(err, "Failed to construct formatter for %q", f.format)
			}
			out, err := formatter(grpcurl.MakeTemplate(md))
			if err != nil {
				return fail(err, "Failed to print template for message %s", s)
			}
			fmt.Fprintf(w, "\nMessage template:\n%s\n", out)
		}
	}
	return nil
}

func kindOf(d desc.Descriptor) string {
	switch d := d.(type) {
	case *desc.MessageDescriptor:
		return "a message"
	case *desc.FieldDescriptor:
		if d.IsExtension() {
			return "an extension"
		}
		return "a field"
	case *desc.OneOfDescriptor:
		return "a one-of"
	case *desc.EnumDescriptor:
		return "an enum"
	case *desc.EnumValueDescriptor:
		return "an enum value"
	case *desc.ServiceDescriptor:
		return "a service"
	case *desc.MethodDescriptor:
		return "a method"
	}
	return "a symbol"
}

// composite resolves symbols by reflection first, then from the files;
// services are listed by reflection only (grpcurl's -use-reflection with
// -proto files).
type composite struct{ refl, file grpcurl.DescriptorSource }

func (c composite) ListServices() ([]string, error) { return c.refl.ListServices() }

func (c composite) FindSymbol(name string) (desc.Descriptor, error) {
	if d, err := c.refl.FindSymbol(name); err == nil {
		return d, nil
	}
	return c.file.FindSymbol(name)
}

func (c composite) AllExtensionsForType(name string) ([]*desc.FieldDescriptor, error) {
	exts, err := c.refl.AllExtensionsForType(name)
	if err != nil {
		return c.file.AllExtensionsForType(name)
	}
	seen := map[int32]bool{}
	for _, e := range exts {
		seen[e.GetNumber()] = true
	}
	more, err := c.file.AllExtensionsForType(name)
	if err != nil {
		return exts, nil
	}
	for _, e := range more {
		if !seen[e.GetNumber()] {
			exts = append(exts, e)
		}
	}
	return exts, nil
}
