#!/usr/bin/env bash
# Kong's bundled plugins from Kong's own source tree (issue 18's acceptance):
# `luahost plugins` with `plugins = bundled` and a fetched Kong tree on the
# Lua path loads every bundled plugin it can and names, for each of the
# others, the module it lacks (and the rock that provides it, from Kong's
# rockspec). The tree is never committed: it is extracted from the Kong
# mirror into a temporary directory (KONG_REPO, default
# /work/.mirror/Kong+kong/repo; KONG_REF, default HEAD).
#
#   bash bench/kong-bundled.sh        prints the listing, then the counts
set -euo pipefail
cd "$(dirname "$0")/.."
repo=${KONG_REPO:-/work/.mirror/Kong+kong/repo}
ref=${KONG_REF:-HEAD}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$repo" archive "$ref" kong kong-latest.rockspec | tar -x -C "$tmp"
go build -o "$tmp/luahost" ./cmd/luahost
out=$(cd "$(mktemp -d -p "$tmp")" && "$tmp/luahost" plugins --plugins bundled \
  --lua-package-path "$tmp/?.lua;$tmp/?/init.lua" 2>/dev/null)
echo "$out"
loaded=$(echo "$out" | grep -cE '^[a-z0-9-]+ [0-9]' || true)
skipped=$(echo "$out" | grep -cE '^[a-z0-9-]+: needs ' || true)
echo
echo "Kong $(git -C "$repo" rev-parse --short "$ref"): $loaded bundled plugins loaded, $skipped not loaded"
echo "$out" | grep -E '^[a-z0-9-]+: needs ' | awk '{print $3}' | sort | uniq -c | sort -rn |
  awk '{printf "  %2d need %s\n", $1, $2}'
