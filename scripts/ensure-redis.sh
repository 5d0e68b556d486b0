#!/usr/bin/env bash
# Makes sure redis-server is installed for the tests (pdk's resty.redis
# tests start their own server on a free port): installs it with apt-get
# when missing and running as root, as ensure-postgres.sh does for
# PostgreSQL. Without it those tests skip, except under CI=true where they
# fail.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-redis: installing redis-server with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null || \
      echo "ensure-redis: could not install redis-server" >&2
  else
    echo "ensure-redis: redis-server missing (not root, or no apt-get): its tests will skip" >&2
  fi
fi
