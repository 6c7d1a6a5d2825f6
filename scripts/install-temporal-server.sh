#!/usr/bin/env bash
# Installs the Temporal server and its SQL schema tool for the PostgreSQL engine (scripts/engine.ts,
# the engine test lane, `npm start -- --engine postgres`), found like the CLI: TEMPORAL_SERVER_PATH /
# TEMPORAL_SQL_TOOL_PATH, then temporal-server / temporal-sql-tool on PATH, then the copies under
# .tools/temporal-server/bin, else `go install` of the pinned module through the Go module proxy
# (about 6 minutes on 2 cores). The module's PostgreSQL schema directory is copied to
# .tools/temporal-server/schema/postgresql. Idempotent: a second run finds everything and does nothing.
# The version is pinned here and in docker-compose.yml (temporalio/server and admin-tools images);
# test/engine/compose.test.ts checks the two agree. Keep in step with lib/temporal/server-path.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_SERVER_VERSION="1.32.2"
# v1.31+ needs a newer Go than Debian's or the image's: the go command fetches this toolchain itself.
GO_TOOLCHAIN="go1.27.3"
DIR=".tools/temporal-server"
BIN="$DIR/bin"
SCHEMA="$DIR/schema/postgresql"

find_bin() { # envVar name
  local named="${!1:-}"
  if [ -n "$named" ]; then
    [ -x "$named" ] || { echo "temporal-server: $1=$named is not an executable file" >&2; exit 1; }
    echo "$named"; return
  fi
  if command -v "$2" >/dev/null 2>&1; then command -v "$2"; return; fi
  if [ -x "$BIN/$2" ]; then echo "$BIN/$2"; fi
}

server="$(find_bin TEMPORAL_SERVER_PATH temporal-server)"
sqltool="$(find_bin TEMPORAL_SQL_TOOL_PATH temporal-sql-tool)"
if [ -n "$server" ] && [ -n "$sqltool" ] && [ -f "$SCHEMA/v12/temporal/versioned/v1.0/schema.sql" ]; then
  echo "temporal-server: found $server, $sqltool and $SCHEMA"
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "temporal-server: not found and Go is not installed; set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH, or install Go" >&2; exit 1; }
mkdir -p "$BIN"
# One build at a time per checkout's .tools (two shells, or CI's background build and a test).
exec 9>"$DIR/.install.lock"
flock 9
start=$(date +%s)
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
export GOTOOLCHAIN="$GO_TOOLCHAIN" GOFLAGS="${GOFLAGS:-} -mod=mod"
if [ -z "$server" ] && [ ! -x "$BIN/temporal-server" ]; then
  echo "temporal-server: building go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION through the Go module proxy"
  GOBIN="$stage" go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION"
  mv "$stage/server" "$BIN/temporal-server"
fi
if [ -z "$sqltool" ] && [ ! -x "$BIN/temporal-sql-tool" ]; then
  echo "temporal-server: building go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
  GOBIN="$stage" go install "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
  mv "$stage/sql" "$BIN/temporal-sql-tool"
fi
if [ ! -f "$SCHEMA/v12/temporal/versioned/v1.0/schema.sql" ]; then
  module="$(go mod download -json "go.temporal.io/server@v$TEMPORAL_SERVER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$module/schema/postgresql" ] || { echo "temporal-server: no schema/postgresql in $module" >&2; exit 1; }
  rm -rf "$SCHEMA"
  mkdir -p "$SCHEMA"
  cp -r "$module/schema/postgresql/." "$SCHEMA/"
  chmod -R u+w "$SCHEMA"
fi
echo "temporal-server: installed v$TEMPORAL_SERVER_VERSION into $DIR in $(($(date +%s) - start)) s"
