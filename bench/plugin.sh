#!/usr/bin/env bash
# Side-by-side plugin benchmark, one run (issue 15's acceptance): what an
# auth plugin costs luahost, against the engine Kong runs on.
#
#   luahost, no plugin          one route "/" to one Service
#   luahost + token-auth        the same, token-auth (plugins/token-auth)
#                               configured globally, hide_credentials on, the
#                               credential and consumer in the cache (warm)
#   nginx + LuaJIT              access_by_lua doing the same check: read the
#                               X-Api-Token header, look the credential and its
#                               consumer up in a per-worker Lua table backed by
#                               a shared dict, 401 when unknown, else clear the
#                               token header, add X-Consumer-ID and proxy
#
# All to the same nginx upstream answering "200 ok", with a valid token.
# Each proxy gets one core (GOMAXPROCS=1 or one nginx worker, pinned to
# CPU 1); wrk and the upstream share CPU 0. Prints requests/s and the
# ratios the issue sets: luahost+plugin / nginx+LuaJIT (target >= 0.70)
# and the plugin's cost, 1 - luahost+plugin / luahost (target <= 15 %).
# Compare ratios, not absolute figures. ROUNDS=n (default 1) measures the
# three in turn n times and reports the medians, for a busy machine. Each
# row also gives requests per second of the proxy's own CPU time (from
# /proc): on a machine loaded by other work, throughput measures the share
# of the core the scheduler gave each proxy as much as its cost, while
# requests per CPU-second measures the cost alone.
#
# Needs: go, wrk, nginx with the Lua module (Debian: nginx
# libnginx-mod-http-lua), psql and PostgreSQL on 127.0.0.1:5432 (trust
# auth; PGUSER/PGHOST/PGPORT honoured). DUR (5s) and CONNS (64) tune wrk.
# PROFILE=DIR writes each luahost's CPU profile of the whole run to
# DIR/plain.pprof and DIR/plugin.pprof (go tool pprof -top DIR/plugin.pprof).
# BASE=REV (a git revision) also builds REV and runs its two luahosts in
# the same rounds, on the same databases: a before/after in one run, which
# is the only comparison this machine's drift allows.
# HALTPOLL=NS (root, a KVM guest with the cpuidle-haltpoll driver) sets the
# guest's idle polling (/sys/module/haltpoll/parameters/guest_halt_poll_ns)
# to NS nanoseconds for the run and puts the old value back at exit. This
# machine's VM boots with it 0: an idle vCPU halts at once, and a write
# that wakes a process on it (wrk or the upstream, on CPU 0) pays an
# interrupt to the host, charged to the writing proxy. The slower a proxy,
# the more often CPU 0 is idle when it writes, so the VM adds to a slow
# proxy's cost more than to a fast one's; with polling on, a write wakes
# a polling CPU without an interrupt, and the rows compare the proxies'
# own work. Measure both ways and say which.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-5s}
CONNS=${CONNS:-64}
PGUSER=${PGUSER:-postgres}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
NGINX_MODULES=${NGINX_MODULES:-/usr/lib/nginx/modules}
TOKEN=bench-token-1
# Ports of our own, apart from proxy.sh's and shared/bench's.
UP=19280 PLAIN=19201 PLUGIN=19202 NGXLUA=19203 BPLAIN=19211 BPLUGIN=19212
OUT=$(mktemp -d /tmp/luahost-plugin-bench.XXXXXX)
DB1=luahost_bench_plain_$$
DB2=luahost_bench_plugin_$$
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for f in "$OUT"/*.pid; do [ -f "$f" ] && kill "$(cat "$f" 2>/dev/null)" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for db in $DB1 $DB2; do
		psql -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	done
	[ -d "$OUT/base" ] && git worktree remove --force "$OUT/base" >/dev/null 2>&1
	[ -n "${HALTPOLL_OLD:-}" ] && echo "$HALTPOLL_OLD" >"$HALTPOLL_FILE" 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT

for tool in go wrk nginx psql taskset curl; do
	command -v "$tool" >/dev/null || { echo "plugin.sh: $tool is not installed" >&2; exit 1; }
done
[ -f "$NGINX_MODULES/ngx_http_lua_module.so" ] || {
	echo "plugin.sh: no $NGINX_MODULES/ngx_http_lua_module.so (apt-get install libnginx-mod-http-lua)" >&2; exit 1; }
for port in $UP $PLAIN $PLUGIN $NGXLUA $BPLAIN $BPLUGIN; do
	if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
		echo "plugin.sh: port $port is in use" >&2; exit 1
	fi
done

HALTPOLL_FILE=/sys/module/haltpoll/parameters/guest_halt_poll_ns
if [ -n "${HALTPOLL:-}" ]; then
	[ -w "$HALTPOLL_FILE" ] || {
		echo "plugin.sh: HALTPOLL needs a writable $HALTPOLL_FILE (root, a KVM guest with cpuidle-haltpoll)" >&2; exit 1; }
	HALTPOLL_OLD=$(cat "$HALTPOLL_FILE")
	echo "$HALTPOLL" >"$HALTPOLL_FILE"
fi

go build -o "$OUT/luahost" ./cmd/luahost
if [ -n "${BASE:-}" ]; then
	git worktree add -q --detach "$OUT/base" "$BASE"
	(cd "$OUT/base" && go build -o "$OUT/luahost-base" ./cmd/luahost)
fi
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

# nginx + LuaJIT: the check token-auth does on a warm cache, in the shape
# of Kong's mlcache (a per-worker Lua table as L1, a shared dict as L2,
# the "database" a Lua table filled at start).
cat >"$OUT/nginx-lua.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 10;
daemon off;
pid $OUT/nginx-lua.pid;
error_log $OUT/nginx-lua.err warn;
load_module $NGINX_MODULES/ndk_http_module.so;
load_module $NGINX_MODULES/ngx_http_lua_module.so;
events { worker_connections 4096; }
http {
  access_log off;
  lua_shared_dict kong_db_cache 16m;
  upstream up { server 127.0.0.1:$UP; keepalive 256; }
  init_by_lua_block {
    L1 = {}
    DB_CREDS, DB_CONSUMERS = {}, {}
    for i = 1, 1000 do
      DB_CREDS["bench-token-" .. i] = { id = "cred" .. i, key = "bench-token-" .. i, consumer = { id = "consumer" .. i } }
      DB_CONSUMERS["consumer" .. i] = { id = "consumer" .. i, username = "bench" .. i }
    end
    -- L2 holds values serialized (mlcache does so with cjson or
    -- string.buffer); a warm L1 never reads it.
    function cache_get(key, load, arg, encode, decode)
      local v = L1[key]
      if v == nil then
        local s = ngx.shared.kong_db_cache:get(key)
        if s then
          v = s ~= "" and decode(s) or false
        else
          v = load(arg) or false
          ngx.shared.kong_db_cache:set(key, v and encode(v) or "")
        end
        L1[key] = v
      end
      return v
    end
    function load_cred(token) return DB_CREDS[token] end
    function load_consumer(id) return DB_CONSUMERS[id] end
    function encode_cred(c) return c.id .. "|" .. c.key .. "|" .. c.consumer.id end
    function decode_cred(s)
      local id, key, cid = s:match("^([^|]*)|([^|]*)|(.*)$")
      return { id = id, key = key, consumer = { id = cid } }
    end
    function encode_consumer(c) return c.id .. "|" .. c.username end
    function decode_consumer(s)
      local id, name = s:match("^([^|]*)|(.*)$")
      return { id = id, username = name }
    end
  }
  server {
    listen $NGXLUA reuseport backlog=4096;
    location / {
      access_by_lua_block {
        local token = ngx.var.http_x_api_token
        if type(token) ~= "string" or token == "" then
          ngx.status = 401
          ngx.header["Content-Type"] = "application/json; charset=utf-8"
          ngx.say('{"message":"No API token found in request"}')
          return ngx.exit(401)
        end
        local cred = cache_get("token_credentials:" .. token .. ":::::", load_cred, token, encode_cred, decode_cred)
        if not cred then
          ngx.status = 401
          ngx.header["Content-Type"] = "application/json; charset=utf-8"
          ngx.say('{"message":"Invalid authentication credentials"}')
          return ngx.exit(401)
        end
        local consumer = cache_get("consumers:" .. cred.consumer.id .. "::::", load_consumer, cred.consumer.id,
          encode_consumer, decode_consumer)
        ngx.req.set_header("X-Consumer-ID", consumer.id)
        ngx.req.clear_header("X-Api-Token")
      }
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://up;
    }
  }
}
CONF

# status_listen off: with Kong's default (127.0.0.1:8007, on since 3.6)
# luahost also counts every request for /metrics (≈ 0.5 µs a request,
# cmd/luahost BenchmarkOpsPhases), which the nginx + LuaJIT side does not
# do; the rounds before the default changed measured without it too.
conf() { # FILE DB PORT
	cat >"$1" <<CONF
database = postgres
pg_host = $PGHOST
pg_port = $PGPORT
pg_user = $PGUSER
pg_database = $2
log_level = error
plugins_dir = $PWD/plugins
proxy_listen = 127.0.0.1:$3 reuseport backlog=16384
admin_listen = off
status_listen = off
CONF
}
conf "$OUT/plain.conf" "$DB1" "$PLAIN"
conf "$OUT/plugin.conf" "$DB2" "$PLUGIN"
conf "$OUT/bplain.conf" "$DB1" "$BPLAIN"
conf "$OUT/bplugin.conf" "$DB2" "$BPLUGIN"
for db in $DB1 $DB2; do
	psql -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c "CREATE DATABASE $db" >/dev/null
done
"$OUT/luahost" migrations bootstrap -c "$OUT/plain.conf" >/dev/null
"$OUT/luahost" migrations bootstrap -c "$OUT/plugin.conf" >/dev/null
"$OUT/seed" -conf "$OUT/plain.conf" -upstream "127.0.0.1:$UP"
"$OUT/seed" -conf "$OUT/plugin.conf" -upstream "127.0.0.1:$UP" -token-auth "$TOKEN"

nginx -c "$OUT/upstream.conf" -p "$OUT" 2>>"$OUT/up.err" &
PIDS+=($!)

status() { # URL [TOKEN]
	curl -s -o /dev/null -w '%{http_code}' ${2:+-H "X-Api-Token: $2"} "$1" || true
}

wait_up() { # URL TOKEN
	for _ in $(seq 1 300); do
		[ "$(status "$1" "$2")" = 200 ] && return 0
		sleep 0.05
	done
	echo "plugin.sh: $1 never answered 200; logs:" >&2
	tail -n 5 "$OUT"/*.err >&2 || true
	exit 1
}

# cputicks PID...: CPU time (user + system, clock ticks) the processes and
# their children threads used so far (/proc/PID/stat fields 14, 15).
cputicks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
	done
	echo "$t"
}

# bench URL PID...: warm up (fills the caches), then one measured wrk run
# with the token; prints requests/s and requests per CPU-second of the
# proxy's processes (PIDs), the figure a loaded machine distorts least.
bench() {
	local url=$1
	shift
	wait_up "$url" "$TOKEN"
	taskset -c 0 wrk -t1 -c"$CONNS" -d1s -H "X-Api-Token: $TOKEN" "$url" >/dev/null
	local t0 t1 out
	t0=$(cputicks "$@")
	out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"$DUR" -H "X-Api-Token: $TOKEN" "$url")
	t1=$(cputicks "$@")
	echo "$out" | awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
		/requests in/ { n = $1 }
		/Requests\/sec/ { rps = $2 }
		END { printf "%s %.0f\n", rps, (ticks > 0 ? n / (ticks / hz) : 0) }'
}

wait_up "http://127.0.0.1:$UP/" ""

# The three proxies run side by side (an idle one costs nothing), so that
# ROUNDS > 1 can take them in turn and drift on a busy machine hits all.
PROFILE=${PROFILE:+$(realpath "$PROFILE")}
prof() { [ -n "$PROFILE" ] && echo "$PROFILE/$1.pprof" || true; }
LUAHOST_CPUPROFILE=$(prof plain) GOMAXPROCS=1 taskset -c 1 "$OUT/luahost" run -c "$OUT/plain.conf" 2>>"$OUT/luahost.err" &
PIDS+=($!)
PLAIN_PID=$!
LUAHOST_CPUPROFILE=$(prof plugin) GOMAXPROCS=1 taskset -c 1 "$OUT/luahost" run -c "$OUT/plugin.conf" 2>>"$OUT/luahost.err" &
PIDS+=($!)
PLUGIN_PID=$!
nginx -c "$OUT/nginx-lua.conf" -p "$OUT" 2>>"$OUT/nginx-lua.err" &
PIDS+=($!)
NGX_PID=$!
PORTS="$PLAIN $PLUGIN $NGXLUA"
if [ -n "${BASE:-}" ]; then
	GOMAXPROCS=1 taskset -c 1 "$OUT/luahost-base" run -c "$OUT/bplain.conf" 2>>"$OUT/luahost.err" &
	PIDS+=($!)
	BPLAIN_PID=$!
	GOMAXPROCS=1 taskset -c 1 "$OUT/luahost-base" run -c "$OUT/bplugin.conf" 2>>"$OUT/luahost.err" &
	PIDS+=($!)
	BPLUGIN_PID=$!
	PORTS="$PORTS $BPLAIN $BPLUGIN"
fi
for port in $PORTS; do wait_up "http://127.0.0.1:$port/" "$TOKEN"; done
# nginx+LuaJIT's CPU is its worker's (a child of the master)
NGX_PIDS=("$NGX_PID" $(pgrep -P "$NGX_PID" || true))

# Each must be doing the check: no token or a wrong one, 401.
applied=yes
for t in "" "wrong-token"; do
	[ "$(status "http://127.0.0.1:$PLUGIN/" "$t")" = 401 ] || applied=no
	if [ "$(status "http://127.0.0.1:$NGXLUA/" "$t")" != 401 ]; then
		echo "plugin.sh: nginx+LuaJIT did not answer 401 without a valid token" >&2; exit 1
	fi
done

# HOLD=1: set everything up, print the ports and PIDs, and wait (Ctrl-C
# ends it): for perf, strace or wrk by hand against the same proxies.
if [ -n "${HOLD:-}" ]; then
	echo "holding: upstream $UP; luahost no plugin :$PLAIN pid $PLAIN_PID;" \
		"luahost + token-auth :$PLUGIN pid $PLUGIN_PID; nginx + LuaJIT :$NGXLUA pids ${NGX_PIDS[*]};" \
		"token $TOKEN"
	wait
	exit 0
fi

# WAKES=1 (root, perf): for each proxy, one more wrk run counting, system
# wide, the wake-ups of other processes (sched_waking) and the interrupts
# sent to another CPU for them (ipi_send_cpu), per request. On a VM an
# interrupt to an idle vCPU costs the sender several system calls' worth
# (DESIGN "System calls per proxied request", Wake-ups).
if [ -n "${WAKES:-}" ]; then
	command -v perf >/dev/null || { echo "plugin.sh: WAKES needs perf (linux-perf)" >&2; exit 1; }
	echo "wake-ups per request (system wide, ${DUR} of wrk):"
	pairs=("nginx + LuaJIT:$NGXLUA" "luahost, no plugin:$PLAIN" "luahost + token-auth:$PLUGIN")
	[ -n "${BASE:-}" ] && pairs+=("BASE, no plugin:$BPLAIN" "BASE + token-auth:$BPLUGIN")
	for pair in "${pairs[@]}"; do
		name=${pair%:*} port=${pair##*:}
		perf stat -x, -a -e sched:sched_waking,ipi:ipi_send_cpu -o "$OUT/wakes" -- \
			taskset -c 0 wrk -t1 -c"$CONNS" -d"$DUR" -H "X-Api-Token: $TOKEN" "http://127.0.0.1:$port/" >"$OUT/wakes.wrk"
		n=$(awk '/requests in/ { print $1 }' "$OUT/wakes.wrk")
		awk -F, -v n="$n" -v name="$name" '
			/sched_waking/ { w = $1 } /ipi_send_cpu/ { i = $1 }
			END { printf "  %-24s %.3f wake-ups, %.3f interrupts to another CPU (%d requests)\n", name, w / n, i / n, n }' "$OUT/wakes"
	done
fi

ROUNDS=${ROUNDS:-1}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$OUT/plain.rps"; : >"$OUT/plugin.rps"; : >"$OUT/ngx.rps"; : >"$OUT/bplain.rps"; : >"$OUT/bplugin.rps"
# With BASE, the two builds take turns at going first in a round: the
# place in a round biases a figure by as much as the changes measured
# (BASE=HEAD, one build against itself, gave 0.94 when it always went
# first).
base_pair() {
	bench "http://127.0.0.1:$BPLAIN/" "$BPLAIN_PID" >>"$OUT/bplain.rps"
	bench "http://127.0.0.1:$BPLUGIN/" "$BPLUGIN_PID" >>"$OUT/bplugin.rps"
}
for r in $(seq 1 "$ROUNDS"); do
	if [ -n "${BASE:-}" ] && [ $((r % 2)) = 0 ]; then base_pair; fi
	bench "http://127.0.0.1:$PLAIN/" "$PLAIN_PID" >>"$OUT/plain.rps"
	bench "http://127.0.0.1:$PLUGIN/" "$PLUGIN_PID" >>"$OUT/plugin.rps"
	bench "http://127.0.0.1:$NGXLUA/" "${NGX_PIDS[@]}" >>"$OUT/ngx.rps"
	if [ -n "${BASE:-}" ] && [ $((r % 2)) = 1 ]; then base_pair; fi
done
col() { awk -v c="$1" '{ print $c }' | median; }
plain=$(col 1 <"$OUT/plain.rps") plainc=$(col 2 <"$OUT/plain.rps")
plugin=$(col 1 <"$OUT/plugin.rps") pluginc=$(col 2 <"$OUT/plugin.rps")
ngx=$(col 1 <"$OUT/ngx.rps") ngxc=$(col 2 <"$OUT/ngx.rps")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
cost() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f %%", 100 * (1 - a / b); else print "-" }'; }
echo
echo "one proxy core, wrk -t1 -c$CONNS -d$DUR, valid token, upstream nginx \"200 ok\" ($ROUNDS round(s), median)"
[ -r "$HALTPOLL_FILE" ] && echo "guest idle polling (guest_halt_poll_ns): $(cat "$HALTPOLL_FILE") ns${HALTPOLL:+ (HALTPOLL; was $HALTPOLL_OLD)}" \
	"(cpuidle driver: $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo unknown); the setting applies only under haltpoll)"
echo "req/CPU-s: requests served per second of the proxy's own CPU time (what a loaded machine distorts least)"
printf '%-40s %10s %8s %10s %8s\n' proxy "req/s" ratio "req/CPU-s" ratio
printf '%-40s %10s %8s %10s %8s\n' "nginx + LuaJIT (token check in Lua)" "$ngx" "1.00" "$ngxc" "1.00"
printf '%-40s %10s %8s %10s %8s\n' "luahost, no plugin" "$plain" "$(ratio "$plain" "$ngx")" "$plainc" "$(ratio "$plainc" "$ngxc")"
printf '%-40s %10s %8s %10s %8s\n' "luahost + token-auth (warm cache)" "$plugin" "$(ratio "$plugin" "$ngx")" "$pluginc" "$(ratio "$pluginc" "$ngxc")"
echo
echo "luahost+token-auth / nginx+LuaJIT: $(ratio "$plugin" "$ngx") req/s, $(ratio "$pluginc" "$ngxc") req/CPU-s (target >= 0.70)"
echo "token-auth's cost in luahost:      $(cost "$plugin" "$plain") req/s, $(cost "$pluginc" "$plainc") req/CPU-s (target <= 15 %)"
# Per-round ratios (the three measured within seconds of each other), then
# their median: steadier than the ratio of medians when the machine's speed
# drifts between rounds.
paste "$OUT/plain.rps" "$OUT/plugin.rps" "$OUT/ngx.rps" >"$OUT/rounds"
rmed() { awk "{ print $1 }" "$OUT/rounds" | median; }
echo "median of per-round ratios: token-auth/nginx+LuaJIT $(rmed '$3 / $5') req/s, $(rmed '$4 / $6') req/CPU-s;" \
	"token-auth's cost $(rmed '100 * (1 - $3 / $1)') % req/s, $(rmed '100 * (1 - $4 / $2)') % req/CPU-s"
echo "per round (req/s req/CPU-s): nginx+LuaJIT $(tr '\n' ',' <"$OUT/ngx.rps") no plugin $(tr '\n' ',' <"$OUT/plain.rps") token-auth $(tr '\n' ',' <"$OUT/plugin.rps")"
if [ -n "${BASE:-}" ]; then
	paste "$OUT/plain.rps" "$OUT/plugin.rps" "$OUT/ngx.rps" "$OUT/bplain.rps" "$OUT/bplugin.rps" >"$OUT/rounds"
	echo "BASE $BASE, medians of per-round ratios (req/s, req/CPU-s):" \
		"no plugin this/base $(rmed '$1 / $7') $(rmed '$2 / $8');" \
		"token-auth this/base $(rmed '$3 / $9') $(rmed '$4 / $10');" \
		"base token-auth/nginx+LuaJIT $(rmed '$9 / $5') $(rmed '$10 / $6');" \
		"base token-auth's cost $(rmed '100 * (1 - $9 / $7)') % $(rmed '100 * (1 - $10 / $8)') %"
fi
if [ -n "$PROFILE" ]; then # a graceful stop writes the profiles
	kill -TERM "$PLAIN_PID" "$PLUGIN_PID"
	wait "$PLAIN_PID" "$PLUGIN_PID" || true
	echo "profiles: $PROFILE/plain.pprof $PROFILE/plugin.pprof"
fi
if [ "$applied" != yes ]; then
	echo "WARNING: luahost did not answer 401 without a token: token-auth was not applied" \
		"(this build has no plugin iterator), so the plugin row measures no plugin" >&2
fi
