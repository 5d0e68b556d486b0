#!/usr/bin/env bash
# The runner's canary through the CLI: spec/canary/must_fail_canary.lua has
# tests that must fail, must error and must pass. `luahost test` must exit
# 1 and count exactly 4 successes, 11 failures and 4 errors; anything else
# means the runner can report a failing test as passing (or the reverse).
set -u
cd "$(dirname "$0")/.."
out=$(go run ./cmd/luahost test --plugins-dir plugins --timeout 2s spec/canary/must_fail_canary.lua 2>/dev/null)
code=$?
summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ success' || true)
want="4 successes / 11 failures / 4 errors / 0 pending"
if [ "$code" != 1 ] || [ "${summary%% :*}" != "$want" ]; then
  echo "canary: FAILED: exit $code, summary '${summary}', want exit 1 and '$want'" >&2
  exit 1
fi
echo "canary: ok ($want, exit 1)" >&2
