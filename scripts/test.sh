#!/usr/bin/env bash
# The project's test command: vet, then every test with the race detector,
# against a PostgreSQL server this script makes sure is running, with PUC
# Lua 5.1 (the conformance tests' reference VM) and redis-server (the
# resty.redis tests) installed, then the allocation budgets without the race
# detector (it makes sync.Pool drop items, so counts under it say nothing:
# those tests carry //go:build !race), then the runner's canary through the
# CLI.
# Checked under load (issue 13): with one `nice -n 10` busy loop beside it on
# the 2-core machine, CI=true go test -race -count=3 -timeout 60m ./... passed
# twice in 23-27 min; cmd/luahost, the slowest package, took 510-640 s.
set -eo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-postgres.sh
. scripts/ensure-lua51.sh
. scripts/ensure-lualibs.sh
. scripts/ensure-redis.sh
set -u
echo "== go vet" >&2
go vet ./...
echo "== go test -race" >&2
go test -race -count=1 -timeout 20m ./...
echo "== allocation budgets (without -race)" >&2
go test -count=1 -timeout 10m -run 'Allocs' ./...
echo "== canary: luahost test must report exactly the canary's failures" >&2
bash scripts/canary.sh
