#!/usr/bin/env bash
# Installs restic for the restic repository kind and its tests: Debian's `restic` package, else
# the pinned restic built through the Go module proxy into .tools/restic/bin (what the copy worker
# finds after RESTIC_PATH and PATH). Idempotent: does nothing when a restic is already there.
# Without apt (or root) and Go it says so and exits 1: the restic tests then skip, `npm start`
# (directory repository) does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
RESTIC_MODULE="github.com/restic/restic/cmd/restic@v0.18.1" # keep in step with activities/copy/restic/restic-path.ts
for candidate in "${RESTIC_PATH:-}" "$(command -v restic || true)" .tools/restic/bin/restic; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "restic: already installed ($("$candidate" version))"
    exit 0
  fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  if $SUDO apt-get install -y -qq --no-install-recommends restic >/dev/null; then
    echo "restic: installed from Debian ($(restic version))"
    exit 0
  fi
fi
if command -v go >/dev/null 2>&1; then
  mkdir -p .tools/restic/bin
  GOTOOLCHAIN=go1.27.3 GOBIN="$PWD/.tools/restic/bin" go install "$RESTIC_MODULE"
  echo "restic: built $RESTIC_MODULE ($(.tools/restic/bin/restic version))"
  exit 0
fi
echo "restic: neither apt-get (as root) nor go is available; install restic by hand to use a restic repository" >&2
exit 1
