#!/usr/bin/env bash
# The project's test command: vet, then every test with the race detector,
# against a PostgreSQL server this script makes sure is running, with
# redis-server installed for the resty.redis tests.
set -eo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-postgres.sh
. scripts/ensure-redis.sh
set -u
echo "== go vet" >&2
go vet ./...
echo "== go test -race" >&2
go test -race -count=1 -timeout 20m ./...
