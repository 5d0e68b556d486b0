#!/usr/bin/env bash
# Makes sure PUC Lua 5.1 (lua5.1, luac5.1) is installed: the differential
# conformance tests compare luahost's VM with it. Installs Debian's lua5.1
# package with apt-get when missing and running as root.
set -u
if ! command -v lua5.1 >/dev/null 2>&1 || ! command -v luac5.1 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-lua51: installing lua5.1 with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq lua5.1 >/dev/null; } ||
      echo "ensure-lua51: apt-get could not install lua5.1" >&2
  fi
fi
if command -v lua5.1 >/dev/null 2>&1; then
  echo "ensure-lua51: $(lua5.1 -v 2>&1)" >&2
else
  echo "ensure-lua51: lua5.1 is not installed; the conformance tests fail with CI=true" >&2
fi
