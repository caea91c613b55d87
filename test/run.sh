#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   bash test/run.sh
# Installs what is missing, builds guard with -Werror, installs it, and runs
# (as the postgres user, on temporary instances with private sockets):
#   1. pg_regress: sql/*.sql against expected/*.out
#   2. TAP: test/t/*.pl (restarts, crashes, dump/restore, eviction, concurrency)
#   3. PostgreSQL's own regression suite with and without guard (test/pgregress),
#      unless GUARD_SKIP_PGREGRESS=1.
# Ends with one line "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"

guard_deps
guard_build || { echo "0 passed, 1 failed"; exit 1; }

work=$(guard_workdir check)
trap 'rm -rf "$work"' EXIT
# pg_regress and prove write next to the sources: test a copy owned by postgres
tar -C "$GUARD_ROOT" --exclude=.git --exclude='tmp_check*' --exclude=results -cf - . | tar -C "$work" -xf -
chown -R postgres: "$work"

passed=0
failed=0
step() {
	local name=$1; shift
	say "$name"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

step "pg_regress" bash -c "cd '$work' && runuser -u postgres -- make -s installcheck TAP_TESTS= PG_CONFIG=/usr/bin/pg_config"
[ -f "$work/regression.diffs" ] && cat "$work/regression.diffs"
step "TAP" bash -c "cd '$work' && runuser -u postgres -- make -s installcheck REGRESS= PG_CONFIG=/usr/bin/pg_config"
for f in "$work"/tmp_check/log/regress_log_*; do
	[ -f "$f" ] && grep -q '^\[.*\] not ok' "$f" && { echo "--- $f"; grep -B2 -A20 'not ok' "$f" | head -80; }
done

if [ "${GUARD_SKIP_PGREGRESS:-0}" != 1 ] && [ -x "$GUARD_ROOT/test/pgregress/run.sh" ]; then
	step "PostgreSQL regression suite with guard preloaded" "$GUARD_ROOT/test/pgregress/run.sh"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
