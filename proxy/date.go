package proxy

import (
	"errors"
	"reflect"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// The Date header. nginx writes its own Date on a response unless the
// response has one (r->headers_out.date); Kong's template passes the
// upstream's (proxy_pass_header Date), under the spelling it came with, so
// a proxied response carries the upstream's Date when it sent one, and
// nginx's otherwise, as Kong's own responses do.
//
// fasthttp writes its own Date line (its clock, refreshed each second, as
// nginx's cached time is) on every response and leaves out a "Date" field
// the response holds, unless the response header's noDefaultDate is set.
// Only a Server sets it (Server.NoDefaultDate, at each request's start),
// every ResponseHeader.Reset and CopyTo clears it (the upstream client
// resets its response), and fasthttp has no setter for it — nor a way to
// add a Date field: Set and Add drop one. So the proxy sets it itself
// just before a response is written (finish, after the header filters):
// on when the response holds a Date field whatever the case of its name
// (the upstream's, as nginx keeps it), off otherwise (fasthttp's, as
// nginx adds its own). It reaches the field by an offset checked at start
// (DateInternals; the luavm package does the same for gopher-lua's
// LTable and LState); on a mismatch the upstream's Date is replaced by
// fasthttp's, as before.

var (
	offNoDefaultDate uintptr
	dateErr          = checkDateInternals()
)

func checkDateInternals() error {
	f, ok := reflect.TypeOf((*fasthttp.ResponseHeader)(nil)).Elem().FieldByName("noDefaultDate")
	if !ok || len(f.Index) != 1 || f.Type.Kind() != reflect.Bool {
		return errors.New("proxy: fasthttp's ResponseHeader has no bool field noDefaultDate (upgraded?): an upstream's Date is replaced by fasthttp's")
	}
	offNoDefaultDate = f.Offset
	return nil
}

// DateInternals reports whether the proxy passes an upstream's Date (nil),
// or why it cannot.
func DateInternals() error { return dateErr }

// setOwnDate sets whether fasthttp writes its own Date line on h (and
// leaves out a Date field h holds).
func setOwnDate(h *fasthttp.ResponseHeader, own bool) {
	if dateErr == nil {
		*(*bool)(unsafe.Add(unsafe.Pointer(h), offNoDefaultDate)) = !own
	}
}
