#!/usr/bin/env bash
# Kong's own specs of its bundled plugins (spec/03-plugins/<nn>-<plugin>/),
# run unmodified by `luahost test` in Kong's source tree: the measure of
# how much of Kong's behaviour, as Kong tests it, luahost reproduces. The
# tree is never committed: it is extracted from the Kong mirror into a
# temporary directory (KONG_REPO, default /work/.mirror/Kong+kong/repo;
# KONG_REF, default HEAD). One line per spec directory: busted's summary
# (successes / failures / errors / pending), then the totals. Hybrid
# deployments (spec.hybrid) are pending: luahost has no hybrid mode.
#
#   bash bench/kong-specs.sh                       every bundled plugin's specs
#   bash bench/kong-specs.sh 09-key-auth 13-cors   some of them
#   KEEP=DIR bash bench/kong-specs.sh ...          keep the tree and logs in DIR
#
# Needs: go, git, PostgreSQL on 127.0.0.1:5432 (KONG_PG_USER, default
# postgres; the kong_tests database is made on first use). TIMEOUT (600s)
# bounds each directory.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=${KONG_REPO:-/work/.mirror/Kong+kong/repo}
ref=${KONG_REF:-HEAD}
export KONG_PG_USER=${KONG_PG_USER:-postgres}
if [ -n "${KEEP:-}" ]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi
rm -rf "$tmp/kong" "$tmp/spec"
git -C "$repo" archive "$ref" kong spec kong.conf.default | tar -x -C "$tmp"
go build -o "$tmp/luahost" ./cmd/luahost
mkdir -p "$tmp/logs"
if [ $# -eq 0 ]; then
	set -- $(cd "$tmp/spec/03-plugins" && ls -d [0-9]*/ | tr -d /)
fi
tot_s=0 tot_f=0 tot_e=0 tot_p=0
for d in "$@"; do
	log="$tmp/logs/$d.log"
	(cd "$tmp" && timeout "${TIMEOUT:-600s}" ./luahost test -o plainTerminal "spec/03-plugins/$d" >"$log" 2>&1) || true
	sum=$(grep -E '^[0-9]+ success' "$log" | tail -1 | sed 's/ : .*//' || true)
	if [ -z "$sum" ]; then
		echo "$d: no summary (see $log): $(tail -1 "$log" | cut -c1-160)"
		continue
	fi
	echo "$d: $sum"
	read -r s f e p < <(echo "$sum" | sed -E 's/^([0-9]+) successe?s? \/ ([0-9]+) failures? \/ ([0-9]+) errors? \/ ([0-9]+) pending.*/\1 \2 \3 \4/')
	tot_s=$((tot_s + s)) tot_f=$((tot_f + f)) tot_e=$((tot_e + e)) tot_p=$((tot_p + p))
done
echo
echo "Kong $(git -C "$repo" rev-parse --short "$ref"): $tot_s successes / $tot_f failures / $tot_e errors / $tot_p pending"
