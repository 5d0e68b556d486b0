// Command fastfwd is the ceiling a fasthttp gateway is compared with: a
// bare forwarder, one keep-alive pool to one upstream, nothing else (no
// routing, no headers, no error bodies).
//
//	fastfwd LISTEN_ADDR UPSTREAM_ADDR
package main

import (
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fastfwd LISTEN_ADDR UPSTREAM_ADDR")
		os.Exit(2)
	}
	up := &fasthttp.HostClient{Addr: os.Args[2], MaxConns: 4096}
	forward := func(ctx *fasthttp.RequestCtx) {
		ctx.Request.Header.Del("Connection")
		if err := up.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error("bad gateway", fasthttp.StatusBadGateway)
		}
	}
	if err := fasthttp.ListenAndServe(os.Args[1], forward); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
