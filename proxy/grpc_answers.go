package proxy

import (
	"bytes"
	"strconv"

	"github.com/valyala/fasthttp"
)

// gRPC answers: what kong.response.exit and kong.response.error do for a
// gRPC client (kong/pdk/response.lua send, error), shared by the proxy's
// own answers and the PDK's binding.

// MIMEGRPC is the Content-Type of gRPC, request and response alike.
const MIMEGRPC = "application/grpc"

// httpToGRPC is Kong's HTTP_TO_GRPC_STATUS.
var httpToGRPC = map[int]int{
	200: 0, 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 499: 1,
	500: 13, 501: 12, 503: 14, 504: 4,
}

// grpcMessages is Kong's GRPC_MESSAGES, by gRPC status code.
var grpcMessages = [...]string{
	"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated",
}

// GRPCStatus is the grpc-status Kong sends for an HTTP status: its
// HTTP_TO_GRPC_STATUS entry, else that of 500, 400 or 200 for the status's
// class, else 2 (Unknown).
func GRPCStatus(status int) int {
	if g, ok := httpToGRPC[status]; ok {
		return g
	}
	switch {
	case status >= 500 && status <= 599:
		return httpToGRPC[500]
	case status >= 400 && status <= 499:
		return httpToGRPC[400]
	case status >= 200 && status <= 299:
		return httpToGRPC[200]
	}
	return 2
}

// GRPCMessage is the grpc-message Kong sends by default for a gRPC status
// code (GRPC_MESSAGES); "" for a code it has none for.
func GRPCMessage(code int) string {
	if code < 0 || code >= len(grpcMessages) {
		return ""
	}
	return grpcMessages[code]
}

// IsGRPC reports whether a Content-Type is gRPC's: it starts with
// "application/grpc" (Kong's find(ct, "application/grpc", 1, true) == 1).
func IsGRPC(contentType []byte) bool { return bytes.HasPrefix(contentType, []byte(MIMEGRPC)) }

// GRPCRequest is Kong's is_grpc_request (kong/pdk/response.lua): the
// request's Content-Type is gRPC's and it came over HTTP/2.
func (c *Context) GRPCRequest() bool {
	return c.HTTP2() != "" && IsGRPC(c.RequestCtx.Request.Header.ContentType())
}

// resetResponse empties the response for one of Kong's own answers and
// puts back what the proxy's servers set on each response and Reset
// undoes: no Content-Type of fasthttp's own (Kong's template sets an
// empty default_type), header names kept as written. With serveH2 and
// the upstream's read setting it too, a response's Content-Type as read
// (the request PDK's send) is the one set, or none.
func resetResponse(resp *fasthttp.Response) {
	resp.Reset()
	resp.Header.SetNoDefaultContentType(true)
	resp.Header.DisableNormalizing()
}

// grpcAnswer is the gRPC part of Kong's send for a status whose response
// has no grpc-status and no body to send (kong.response.error on a gRPC
// request, kong.response.exit without a body): grpc-status mapped from the
// status, grpc-message its default, Content-Length 0, no body.
func grpcAnswer(resp *fasthttp.Response, status int) {
	g := GRPCStatus(status)
	resp.Header.Set("grpc-status", strconv.Itoa(g))
	resp.Header.Set("grpc-message", GRPCMessage(g))
	resp.Header.SetContentLength(0)
	resp.ResetBody()
}
