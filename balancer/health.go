package balancer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Outcome is what a try (or an active probe) reports.
type Outcome int

// The outcomes lua-resty-healthcheck counts.
const (
	HTTPStatus Outcome = iota // with a status: a success or an http failure per the statuses lists
	TCPFailure
	Timeout
)

// Report counts a try's outcome for the passive health checks (Kong's
// report_http_status, report_tcp_failure, report_timeout); status is the
// response's for HTTPStatus.
func (h *Handle) Report(o Outcome, status int) {
	if h.b == nil || h.addr == nil || !h.b.usingHC {
		return
	}
	p := &h.b.Upstream.Checks.Passive
	h.b.report(h.addr, &p.Healthy, &p.Unhealthy, o, status)
}

func contains(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

// report is lua-resty-healthcheck's incr_counter: a success resets the
// failure counters, a failure the success counter; a counter reaching its
// limit flips the address's health (a limit of 0 never does). A fully
// healthy address counts no success, a fully unhealthy one no failure.
func (b *Balancer) report(a *Address, hc *HealthyConf, uc *UnhealthyConf, o Outcome, status int) {
	success := false
	limit := 0
	switch o {
	case HTTPStatus:
		switch {
		case contains(hc.Statuses, status):
			success, limit = true, hc.Successes
		case contains(uc.Statuses, status):
			limit = uc.HTTPFails
		default:
			return
		}
	case TCPFailure:
		limit = uc.TCPFailures
	case Timeout:
		limit = uc.Timeouts
	}
	if limit == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	avail := a.available.Load()
	if success {
		if avail {
			a.httpFailures, a.tcpFailures, a.tos = 0, 0, 0
			return
		}
		a.successes++
		if a.successes >= limit {
			a.successes = 0
			b.flip(a, true)
		}
		return
	}
	if !avail {
		a.successes = 0
		return
	}
	a.successes = 0
	var n int
	switch {
	case o == TCPFailure:
		a.tcpFailures++
		n = a.tcpFailures
	case o == Timeout:
		a.tos++
		n = a.tos
	default:
		a.httpFailures++
		n = a.httpFailures
	}
	if n >= limit {
		a.httpFailures, a.tcpFailures, a.tos = 0, 0, 0
		b.flip(a, false)
	}
}

func (b *Balancer) flip(a *Address, healthy bool) {
	was := b.Healthy()
	if !b.setAvailable(a, healthy) {
		return
	}
	if l := b.logger; l != nil {
		state := "unhealthy"
		if healthy {
			state = "healthy"
		}
		l.Warn("[healthchecks] ("+b.Upstream.WsID+":"+b.Upstream.Name+") "+state+" target",
			"target", hostPort(a.IP, a.Port), "hostname", a.target.Name)
		if now := b.Healthy(); now != was {
			s := "UNHEALTHY"
			if now {
				s = "HEALTHY"
			}
			l.Warn("[healthchecks] balancer " + b.Upstream.WsID + ":" + b.Upstream.Name + " reported health status changed to " + s)
		}
	}
}

// PostHealth sets the health of an upstream's addresses by hand (Kong's
// post_health): ip "" sets every address of the target hostname:port.
func (r *Registry) PostHealth(upstreamID, hostname, ip string, port int, healthy bool) error {
	b := r.ByID(upstreamID)
	if b == nil {
		return errors.New("Upstream " + upstreamID + " has no balancer")
	}
	if !b.usingHC {
		return errors.New("no healthchecker found for " + b.Upstream.Name)
	}
	found := false
	for _, t := range b.targets {
		if t.Name != hostname || t.Port != port && ip == "" {
			continue
		}
		for _, a := range t.Addresses {
			if ip != "" && (a.IP != ip || a.Port != port) {
				continue
			}
			found = true
			a.mu.Lock()
			a.successes, a.httpFailures, a.tcpFailures, a.tos = 0, 0, 0, 0
			b.flip(a, healthy)
			a.mu.Unlock()
		}
	}
	if !found {
		return errors.New("target not found for " + hostname + ":" + strconv.Itoa(port))
	}
	return nil
}

// HTTPDoer runs an active probe (http.Client has it).
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func defaultClient(https, verify bool, sni string) HTTPDoer {
	tr := &http.Transport{DisableKeepAlives: true}
	if https {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: !verify, ServerName: sni} //nolint:gosec // https_verify_certificate false
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// startActive starts the balancer's active checker when an interval is
// set: healthy addresses are probed every healthy.interval, unhealthy ones
// every unhealthy.interval, at most concurrency at a time.
func (r *Registry) startActive(b *Balancer) {
	a := &b.Upstream.Checks.Active
	if a.Healthy.Interval <= 0 && a.Unhealthy.Interval <= 0 {
		return
	}
	if a.Type != "http" && a.Type != "https" {
		return // tcp, grpc, grpcs: not probed (Kong's http subsystem turns tcp off too)
	}
	mk := r.HTTPClient
	if mk == nil {
		mk = defaultClient
	}
	client := mk(a.Type == "https", a.Verify, a.HTTPSSNI)
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	tick := func(d time.Duration) <-chan time.Time {
		if d <= 0 {
			return nil
		}
		t := time.NewTicker(d)
		go func() { <-ctx.Done(); t.Stop() }()
		return t.C
	}
	go func() {
		hc, uc := tick(a.Healthy.Interval), tick(a.Unhealthy.Interval)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hc:
				b.probeAll(ctx, client, true)
			case <-uc:
				b.probeAll(ctx, client, false)
			}
		}
	}()
}

func (b *Balancer) probeAll(ctx context.Context, client HTTPDoer, healthy bool) {
	a := &b.Upstream.Checks.Active
	n := a.Concurrency
	if n <= 0 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, t := range b.targets {
		for _, ad := range t.Addresses {
			if ad.Weight <= 0 || ad.available.Load() != healthy {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func(ad *Address) {
				defer func() { <-sem; wg.Done() }()
				o, status := b.probe(ctx, client, ad)
				if ctx.Err() == nil {
					b.report(ad, &a.Healthy, &a.Unhealthy, o, status)
				}
			}(ad)
		}
	}
	wg.Wait()
}

func (b *Balancer) probe(ctx context.Context, client HTTPDoer, ad *Address) (Outcome, int) {
	a := &b.Upstream.Checks.Active
	scheme := "http"
	if a.Type == "https" {
		scheme = "https"
	}
	pctx, cancel := context.WithTimeout(ctx, a.Timeout)
	defer cancel()
	ip, port := ad.IP, ad.Port
	if ad.named { // an SRV record's target name, a TTL 0 target: resolved now
		var err error
		if ip, port, err = b.dns.ToIP(pctx, ad.IP, ad.Port, false); err != nil {
			return TCPFailure, 0
		}
	}
	req, err := http.NewRequestWithContext(pctx, "GET", scheme+"://"+hostPort(ip, port)+a.HTTPPath, nil)
	if err != nil {
		return TCPFailure, 0
	}
	host := b.Upstream.HostHeader
	if host == "" {
		host = ad.hostHeader
	}
	if host != "" {
		req.Host = host
	}
	for k, vs := range a.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
			errors.As(err, &ne) && ne.Timeout() {
			return Timeout, 0
		}
		return TCPFailure, 0
	}
	resp.Body.Close()
	return HTTPStatus, resp.StatusCode
}
