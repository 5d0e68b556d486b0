package main

import (
	"log/slog"
	"strings"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/dnsclient"
)

// newDNS is the node's DNS client (Kong's kong.tools.dns setup_client),
// from the dns_* properties: it resolves the Services' hosts and the
// Upstreams' targets. mock is spec.helpers' dns_mock (luahost test's
// nodes; nil: none).
func newDNS(c *conf.Config, logger *slog.Logger, mock *dnsclient.Mock) (*dnsclient.Client, error) {
	cfg := dnsclient.DefaultConfig()
	cfg.Mock = mock
	cfg.Nameservers = c.List("dns_resolver")
	cfg.HostsFile = strings.TrimSpace(c.Get("dns_hostsfile"))
	cfg.Order = c.List("dns_order")
	secs := func(k string, def float64) time.Duration {
		return time.Duration(c.Float(k, def) * float64(time.Second))
	}
	if strings.TrimSpace(c.Get("dns_valid_ttl")) != "" {
		cfg.ValidTTL = secs("dns_valid_ttl", 0)
	}
	cfg.StaleTTL = secs("dns_stale_ttl", 3600)
	cfg.NotFoundTTL = secs("dns_not_found_ttl", 30)
	cfg.ErrorTTL = secs("dns_error_ttl", 1)
	cfg.CacheSize = c.Int("dns_cache_size", 10000)
	cfg.NoSync = c.Bool("dns_no_sync")
	if logger != nil {
		cfg.Logger = logger
	}
	return dnsclient.New(cfg)
}
