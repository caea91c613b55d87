#!/usr/bin/env bash
# The pg_upgrade rehearsal, PostgreSQL 15 -> 18, as root:
#   bash test/pg18/upgrade.sh
# Builds PostgreSQL 18 into its cache if needed (test/pg18/build.sh), builds
# guard for each major in a copy of the tree of its own (objects of one major
# must not be linked for the other), installs it into the system's 15 and
# into the 18 cache only, then runs test/t/019_pg_upgrade.pl as the postgres
# user with GUARD_PG18_INSTALL pointing at the 18 install: a 15 cluster with
# guard, a warm-up, a baseline and incidents is upgraded with 18's pg_upgrade
# and checked on 18 (doc/operations.md, "A PostgreSQL major upgrade with
# pg_upgrade").  The install into 15 and the test run hold
# /tmp/guard-test.lock (other suites install into the same system directory).
# Ends with one line "N passed, N failed", like test/run.sh; exits 0 only if
# every test passed.  GUARD_KEEP_WORK=1 keeps the work directory (the
# test's logs).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "run this as root" >&2; exit 2; }
CACHE=${GUARD_PG18_CACHE:-/var/cache/guard-pg18}
PGC15=/usr/bin/pg_config
PGC18=$CACHE/pg18/bin/pg_config
start=$(date +%s)

guard_deps
say "PostgreSQL 18 (test/pg18/build.sh)"
bash "$here/build.sh" || { echo "0 passed, 1 failed"; exit 1; }

work=$(guard_workdir upgrade)
# GUARD_KEEP_WORK=1 keeps it (logs under check/tmp_check/log)
if [ "${GUARD_KEEP_WORK:-0}" = 1 ]; then
	trap 'echo "work directory kept: $work"' EXIT
else
	trap 'rm -rf "$work"' EXIT
fi

# copy TARGET: the source tree without build products or test leftovers
copy() {
	mkdir -p "$1"
	tar -C "$GUARD_ROOT" --exclude=.git --exclude='tmp_check*' --exclude=results \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=.guard-built-for \
		-cf - . | tar -C "$1" -xf -
}

for v in 15 18; do
	pgc=$PGC15; [ $v = 18 ] && pgc=$PGC18
	say "building guard for $("$pgc" --version)"
	copy "$work/src$v"
	make -C "$work/src$v" -s PG_CONFIG="$pgc" PG_CFLAGS=-Werror >/dev/null ||
		{ echo "0 passed, 1 failed"; exit 1; }
done

# prove writes next to the sources: the test runs in a copy owned by postgres
copy "$work/check"
chown -R postgres: "$work/check"
log="$work/prove.log"

# install into 15 (the system's library directory, shared with other
# suites) and 18 (the cache), then run the test, all under one hold of the
# lock, so that no other suite installs its guard into 15 in between
export work log PGC15 PGC18 CACHE
asked=$(date +%s)
export asked
say "installing guard and running test/t/019_pg_upgrade.pl (waiting for /tmp/guard-test.lock)"
guard_locked bash -c '
	echo "(waited $(( $(date +%s) - asked ))s for the lock)"
	make -C "$work/src15" -s PG_CONFIG="$PGC15" install >/dev/null &&
	make -C "$work/src18" -s PG_CONFIG="$PGC18" install >/dev/null || exit 1
	cd "$work/check" &&
	runuser -u postgres -- env GUARD_PG18_INSTALL="$CACHE/pg18" \
		make -s installcheck REGRESS= PROVE_TESTS=test/t/019_pg_upgrade.pl PG_CONFIG="$PGC15"
' 2>&1 | tee "$log"

for f in "$work"/check/tmp_check/log/regress_log_*; do
	# the failures (not the known ones, marked TODO) with their context
	[ -f "$f" ] && grep -E '^\[.*\].* not ok' "$f" | grep -qv '# TODO' &&
		{ echo "--- $f"; grep -B2 -A20 'not ok' "$f" | head -80; }
done
# count from prove's summary, as test/run.sh does
total=$(grep -oE 'Tests=[0-9]+' "$log" | grep -oE '[0-9]+' | tail -1)
bad=$(grep -oE 'Tests: [0-9]+ Failed: [0-9]+' "$log" | awk '{s += $4} END {print s + 0}')
if [ -n "$total" ] && [ "$total" -gt 0 ]; then
	# a test that died midway: prove says FAIL with no failed test counted
	grep -q '^Result: PASS' "$log" || [ "$bad" -gt 0 ] || bad=1
	passed=$((total - bad)); failed=$bad
else
	passed=0; failed=1		# did not run (or skipped everything)
fi
todo=$(cat "$work"/check/tmp_check/log/regress_log_* 2>/dev/null | grep -cE '^\[.*\].* not ok.*# TODO' || true)
[ "$todo" -gt 0 ] && echo "($todo known failures marked TODO, counted as passed by prove)"
echo "upgrade.sh took $(( $(date +%s) - start ))s"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
