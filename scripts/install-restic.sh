#!/usr/bin/env bash
# Installs restic for the restic repository kind and its tests: the pinned restic built through the
# Go module proxy into .tools/restic/bin (what the copy worker finds after RESTIC_PATH and PATH),
# else Debian's `restic` package. Idempotent: does nothing when a recent enough restic is there.
# Without apt (or root) and Go it says so and exits 1: the restic tests then skip, `npm start`
# (directory repository) does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
RESTIC_MODULE="github.com/restic/restic/cmd/restic@v0.18.1" # keep in step with activities/copy/restic/restic-path.ts
# The keep rules' property test needs restic >= 0.16 (Debian 12 ships 0.14): an older one is kept
# for the copy worker, and the pinned one is built beside it when Go is there.
usable=""
for candidate in "${RESTIC_PATH:-}" .tools/restic/bin/restic "$(command -v restic || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    version="$("$candidate" version)"
    echo "restic: found $candidate ($version)"
    usable="$candidate"
    if [[ "$version" =~ restic\ 0\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -lt 16 ]; then continue; fi
    exit 0
  fi
done
if command -v go >/dev/null 2>&1; then
  mkdir -p .tools/restic/bin
  if GOTOOLCHAIN=go1.27.3 GOBIN="$PWD/.tools/restic/bin" go install "$RESTIC_MODULE"; then
    echo "restic: built $RESTIC_MODULE ($(.tools/restic/bin/restic version))"
    exit 0
  fi
fi
if [ -n "$usable" ]; then exit 0; fi
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
echo "restic: neither apt-get (as root) nor go is available; install restic by hand to use a restic repository" >&2
exit 1
