#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests:
# start the installed cluster, or install PostgreSQL with apt-get when
# missing and running as root. Exports PGHOST/PGPORT/PGUSER for the tests.
set -u

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/$PGHOST/$PGPORT") >/dev/null 2>&1
  fi
}

start_clusters() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name _; do
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >/dev/null 2>&1 || true
  done
}

if ! pg_up; then
  echo "ensure-postgres: no server on $PGHOST:$PGPORT; starting the installed cluster" >&2
  start_clusters
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
fi

if ! pg_up && [ "$(id -u)" = 0 ] && ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  start_clusters
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  # trust local TCP connections for the test user, as the project's
  # machines are set up
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [ -f "$hba" ] || continue
    if ! grep -q "luahost-tests" "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust # luahost-tests\nhost all all ::1/128 trust # luahost-tests' "$hba"
    fi
  done
  command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters --no-header | while read -r ver name _; do
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >/dev/null 2>&1 || true
  done
fi

if pg_up; then
  echo "ensure-postgres: server up on $PGHOST:$PGPORT" >&2
else
  echo "ensure-postgres: no PostgreSQL server could be had on $PGHOST:$PGPORT" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "ensure-postgres: CI=true, the Postgres tests will fail" >&2
  fi
fi
