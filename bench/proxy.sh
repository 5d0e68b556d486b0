#!/usr/bin/env bash
# Side-by-side proxy benchmark, one run: luahost's proxy (`luahost run`,
# no plugin, one route "/" to one Service) against a bare fasthttp forwarder
# (bench/fastfwd) and nginx's plain proxy_pass, all to the same nginx
# upstream answering "200 ok". Each proxy gets one core (GOMAXPROCS=1 or
# one nginx worker, pinned to CPU 1); wrk and the upstream share CPU 0.
# Prints requests/s and ratios; compare ratios, not absolute figures.
#
# Needs: go, wrk, nginx, psql and PostgreSQL on 127.0.0.1:5432 (trust auth;
# PGUSER/PGHOST/PGPORT honoured). DUR (5s) and CONNS (64) tune wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-5s}
CONNS=${CONNS:-64}
PGUSER=${PGUSER:-postgres}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
# Ports of our own, so a run does not collide with shared/bench's rig.
UP=19180 LUAHOST=19101 NGINX=19102 FAST=19103
OUT=$(mktemp -d /tmp/luahost-bench.XXXXXX)
DB=luahost_bench_$$
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for f in "$OUT"/*.pid; do [ -f "$f" ] && kill "$(cat "$f" 2>/dev/null)" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	rm -rf "$OUT"
}
trap cleanup EXIT

for tool in go wrk nginx psql taskset curl; do
	command -v "$tool" >/dev/null || { echo "proxy.sh: $tool is not installed" >&2; exit 1; }
done
for port in $UP $LUAHOST $NGINX $FAST; do
	if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
		echo "proxy.sh: port $port is in use" >&2; exit 1
	fi
done

go build -o "$OUT/luahost" ./cmd/luahost
go build -o "$OUT/fastfwd" ./bench/fastfwd
go build -o "$OUT/seed" ./bench/seed

cat >"$OUT/upstream.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 01;
daemon off;
pid $OUT/up.pid;
error_log $OUT/up.err warn;
events { worker_connections 4096; }
http { access_log off; server { listen $UP reuseport backlog=4096; location / { return 200 "ok\n"; } } }
CONF
cat >"$OUT/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 10;
daemon off;
pid $OUT/nginx.pid;
error_log $OUT/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream up { server 127.0.0.1:$UP; keepalive 256; }
  server {
    listen $NGINX reuseport backlog=4096;
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://up; }
  }
}
CONF
cat >"$OUT/kong.conf" <<CONF
database = postgres
pg_host = $PGHOST
pg_port = $PGPORT
pg_user = $PGUSER
pg_database = $DB
log_level = error
proxy_listen = 127.0.0.1:$LUAHOST reuseport backlog=16384
admin_listen = off
# as plugin.sh: no per-request /metrics counting (Kong's default status_listen)
status_listen = off
CONF

psql -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c "CREATE DATABASE $DB" >/dev/null
"$OUT/luahost" migrations bootstrap -c "$OUT/kong.conf" >/dev/null
"$OUT/seed" -conf "$OUT/kong.conf" -upstream "127.0.0.1:$UP"

nginx -c "$OUT/upstream.conf" -p "$OUT" 2>>"$OUT/up.err" &
PIDS+=($!)

wait_up() { # url
	for _ in $(seq 1 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
		sleep 0.05
	done
	echo "proxy.sh: $1 never answered 200" >&2
	exit 1
}

# bench NAME URL: warm up, then one measured wrk run; prints req/s.
bench() {
	wait_up "$2"
	taskset -c 0 wrk -t1 -c"$CONNS" -d1s "$2" >/dev/null
	taskset -c 0 wrk -t1 -c"$CONNS" -d"$DUR" "$2" | awk '/Requests\/sec/ {print $2}'
}

wait_up "http://127.0.0.1:$UP/"

GOMAXPROCS=1 taskset -c 1 "$OUT/fastfwd" "127.0.0.1:$FAST" "127.0.0.1:$UP" &
PIDS+=($!)
fast=$(bench fastfwd "http://127.0.0.1:$FAST/")
kill "${PIDS[-1]}"

GOMAXPROCS=1 taskset -c 1 "$OUT/luahost" run -c "$OUT/kong.conf" 2>>"$OUT/luahost.err" &
PIDS+=($!)
lh=$(bench luahost "http://127.0.0.1:$LUAHOST/")
kill -TERM "${PIDS[-1]}"

nginx -c "$OUT/nginx.conf" -p "$OUT" 2>>"$OUT/nginx.err" &
PIDS+=($!)
ngx=$(bench nginx "http://127.0.0.1:$NGINX/")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "one proxy core, wrk -t1 -c$CONNS -d$DUR, upstream nginx \"200 ok\" (one run)"
printf '%-34s %12s %12s %12s\n' proxy "req/s" "/ fasthttp" "/ nginx"
printf '%-34s %12s %12s %12s\n' "nginx proxy_pass" "$ngx" "$(ratio "$ngx" "$fast")" "1.00"
printf '%-34s %12s %12s %12s\n' "bare fasthttp forwarder" "$fast" "1.00" "$(ratio "$fast" "$ngx")"
printf '%-34s %12s %12s %12s\n' "luahost run (router, no plugin)" "$lh" "$(ratio "$lh" "$fast")" "$(ratio "$lh" "$ngx")"
