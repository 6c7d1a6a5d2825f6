#!/usr/bin/env bash
# An on-CPU profile of one side of (a) in its second run (the first warms the JIT up): the whole
# machine (the bench process's threads, the dev server, the kernel), with perf: the CPU a backup
# costs, where the V8 profiler sees only JavaScript and counts a thread blocked in a syscall as busy.
#   bench/perf-side.sh ours|limit [perf.data path] [more bench arguments, e.g. --n 300]
#   perf report -i <path> --sort comm -F sample,comm      # samples per process (499 a second)
#   perf report -i <path> --comm node --sort dso,sym      # inside the bench process
#   perf script -i <path> | npx tsx bench/perf-breakdown.ts --backups 200   # by package, per backup
#   perf script -i <path> | npx tsx bench/perf-breakdown.ts --backups 200 --comm temporal --go-binary <the CLI>
#                                                  # the dev server by gRPC method and queue task (needs Go)
set -euo pipefail
side=${1:?usage: bench/perf-side.sh ours|limit [perf.data path] [bench arguments]}
# A path given is taken from where the script is called; the default is in the repository.
out=$(realpath -m "${2:-$(dirname "$0")/results/perf-$side.data}")
shift $(($# < 2 ? $# : 2))
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 2; }
cd "$(dirname "$0")/.."
mkdir -p "$(dirname "$out")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Symbols for JavaScript (interpreted frames too) go to /tmp/perf-<pid>.map, where perf looks;
# plain --perf-basic-prof would also leave a V8 log per isolate in the working directory.
node --perf-basic-prof-only-functions --interpreted-frames-native-stack --import tsx bench/run.ts --only a --runs 2 --out /dev/null "$@" 2>"$log" &
bench=$!
until grep -q "run 2 $side: start" "$log"; do
  kill -0 "$bench" 2>/dev/null || { cat "$log" >&2; echo "the bench ended before measuring $side" >&2; exit 1; }
  sleep 0.1
done
perf record -F 499 -a -g -o "$out" >/dev/null 2>&1 &
recorder=$!
until grep -q "run 2 $side: end" "$log"; do sleep 0.1; done
kill -INT "$recorder"
wait "$recorder" || true
wait "$bench"
grep -E "^  (a backup|run [12]:)" "$log"
echo "profile of $side: $out"
