#!/usr/bin/env bash
# Fuzz pg_guard's YAML reader with libFuzzer (not part of CI), as root:
#   bash test/fuzz/run.sh [SECONDS]      # default 600
# Builds src/cli/fuzz_yaml (make fuzz: clang, -fsanitize=fuzzer,address,
# undefined; apt-get install clang), copies the seed corpus of
# test/fuzz/corpus to a work directory, and runs for SECONDS on all cores.
# Exits non-zero on a crash; the reproducer (crash-*) is left in the work
# directory, whose path it prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-600}
command -v clang >/dev/null || { apt-get update -q && apt-get install -y -q clang; }
make -C "$root" -s fuzz
work=$(mktemp -d /tmp/pg_guard-fuzz.XXXXXX)
cp -r "$here/corpus" "$work/corpus"
cd "$work"
echo "fuzzing for ${seconds}s in $work"
"$root/src/cli/fuzz_yaml" -max_total_time="$seconds" -detect_leaks=0 -max_len=65536 \
	-jobs="$(nproc)" -workers="$(nproc)" -print_final_stats=1 corpus 2>&1 | tail -20
ls crash-* leak-* timeout-* oom-* 2>/dev/null && { echo "FAILED: see $work"; exit 1; }
echo "no crash in ${seconds}s; corpus now $(ls corpus | wc -l) inputs"
