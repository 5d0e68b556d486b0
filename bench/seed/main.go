// Command seed writes the benchmark's one Service and Route into a
// luahost database (bootstrapped already), through kongdb as any node
// would; with -token-auth, also a Consumer, its token credential and the
// token-auth plugin (plugins/token-auth, global, hide_credentials on), for
// bench/plugin.sh.
//
//	seed -conf FILE -upstream HOST:PORT [-token-auth TOKEN]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
)

func main() {
	file := flag.String("conf", "", "kong.conf-style file")
	upstream := flag.String("upstream", "127.0.0.1:18080", "upstream host:port")
	token := flag.String("token-auth", "", "configure token-auth globally, with a consumer holding this token")
	flag.Parse()
	c := conf.New()
	if *file != "" {
		if err := c.LoadFile(*file); err != nil {
			fail(err)
		}
	}
	c.LoadEnv(os.Environ())
	h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fail(err)
	}
	defer h.Close()
	hostname, port, err := net.SplitHostPort(*upstream)
	if err != nil {
		fail(err)
	}
	p, _ := strconv.Atoi(port)
	ctx := context.Background()
	svc, err := h.Root.DB.DAO("services").Insert(ctx, map[string]any{
		"name": "bench", "protocol": "http", "host": hostname, "port": float64(p)}, nil)
	if err != nil {
		fail(err)
	}
	if _, err := h.Root.DB.DAO("routes").Insert(ctx, map[string]any{
		"name": "bench", "paths": []any{"/"}, "service": map[string]any{"id": svc["id"]}}, nil); err != nil {
		fail(err)
	}
	if *token == "" {
		return
	}
	consumer, err := h.Root.DB.DAO("consumers").Insert(ctx, map[string]any{"username": "bench"}, nil)
	if err != nil {
		fail(err)
	}
	if _, err := h.Root.DB.DAO("token_credentials").Insert(ctx, map[string]any{
		"consumer": map[string]any{"id": consumer["id"]}, "key": *token}, nil); err != nil {
		fail(err)
	}
	if _, err := h.Root.DB.DAO("plugins").Insert(ctx, map[string]any{
		"name": "token-auth", "config": map[string]any{"hide_credentials": true}}, nil); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "seed:", err)
	os.Exit(1)
}
