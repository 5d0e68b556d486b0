#!/usr/bin/env bash
# Makes sure the pure-Lua libraries Kong ships and plugins require come from
# Debian's packages: Penlight (pl.*, lua-penlight) and inspect (lua-inspect),
# under /usr/share/lua/5.1, on luahost's default Lua path. Installs them with
# apt-get when missing and running as root; never vendored.
set -u
if [ ! -f /usr/share/lua/5.1/pl/path.lua ] || [ ! -f /usr/share/lua/5.1/inspect.lua ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-lualibs: installing lua-penlight and lua-inspect with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq lua-penlight lua-inspect >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq lua-penlight lua-inspect >/dev/null; }; } ||
      echo "ensure-lualibs: apt-get could not install lua-penlight lua-inspect" >&2
  fi
fi
if [ -f /usr/share/lua/5.1/pl/path.lua ] && [ -f /usr/share/lua/5.1/inspect.lua ]; then
  echo "ensure-lualibs: Penlight and inspect in /usr/share/lua/5.1" >&2
else
  echo "ensure-lualibs: lua-penlight / lua-inspect missing; the tests requiring pl.* and inspect fail with CI=true" >&2
fi
