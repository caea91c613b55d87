#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   bash test/run.sh
# Installs what is missing, builds guard with -Werror, installs it, and runs
# (as the postgres user, on temporary instances with private sockets):
#   1. pg_regress: sql/*.sql against expected/*.out, and the fingerprint
#      tests again under guard.fingerprint_rules = 1 (make installcheck-rules1)
#   2. TAP: test/t/*.pl (restarts, crashes, dump/restore, eviction, concurrency,
#      a Citus cluster: Citus is built once by test/citus/build.sh)
#   3. PostgreSQL's own regression suite with and without guard (test/pgregress),
#      unless GUARD_SKIP_PGREGRESS=1;
#   3b. TPC-H: the 22 queries planned in a scale-0.001 staging database under
#      the statistics profile of a scale-0.05 one (test/tpch/run.sh);
#   4. PostgreSQL 18, built once from Debian's source package into a cache
#      (test/pg18/build.sh): 1-3 against 18 (test/pg18/run.sh), the hashes of
#      the same statements on 15 and 18 (test/pg18/crossversion.sh) and a
#      pg_upgrade from 15 to 18 (test/pg18/upgrade.sh), unless GUARD_SKIP_PG18=1.
# Ends with one line "N passed, N failed".
# GUARD_PG_CONFIG=/path/to/pg_config tests against another server (default:
# Debian's PostgreSQL 15); test/pg18/run.sh does so for PostgreSQL 18.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# this run installs into the system's 15 itself: the suites it runs must not
# wait for /tmp/guard-test.lock (a caller may hold it around this script)
export GUARD_LOCK_HELD=1

guard_deps
guard_build || { echo "0 passed, 1 failed"; exit 1; }

work=$(guard_workdir check)
trap 'rm -rf "$work"' EXIT
# pg_regress and prove write next to the sources: test a copy owned by postgres
tar -C "$GUARD_ROOT" --exclude=.git --exclude='tmp_check*' --exclude=results -cf - . | tar -C "$work" -xf -
chown -R postgres: "$work"

passed=0
failed=0
log="$work/suite.log"
# count: add the tests a suite reports to the totals
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

# regress TARGET: run one pg_regress make target, count its tests
regress() {
	rm -f "$work/regression.diffs"
	(cd "$work" && runuser -u postgres -- make -s "$1" TAP_TESTS= PG_CONFIG="$GUARD_PG_CONFIG") 2>&1 | tee "$log"
	[ -f "$work/regression.diffs" ] && cat "$work/regression.diffs"
	if n=$(grep -oE 'All [0-9]+ tests passed' "$log" | grep -oE '[0-9]+'); then
		count "$n" 0
	elif line=$(grep -oE '[0-9]+ of [0-9]+ tests failed' "$log"); then
		f=${line%% of*}; t=${line#* of }; t=${t%% *}
		count $((t - f)) "$f"
	else
		count 0 1			# did not even run
	fi
}

say "pg_regress"
regress installcheck
say "pg_regress under guard.fingerprint_rules = 1"
regress installcheck-rules1

# Citus, for test/t/023_citus.pl: built once from ../shared/deps/citus into
# Debian's 15 (Citus 13.2 supports 15 to 17, not 18); without its source
# the test skips, and says so here
if [ "$GUARD_PG_CONFIG" = /usr/bin/pg_config ]; then
	say "Citus for the cluster test (test/citus/build.sh)"
	PG_CONFIG="$GUARD_PG_CONFIG" bash "$GUARD_ROOT/test/citus/build.sh"
	citus_status=$?
	case $citus_status in
		0) ;;
		3) echo "NOTE: test/t/023_citus.pl will skip: no Citus source" ;;
		*) echo "building Citus failed"; count 0 1 ;;
	esac
fi

say "TAP"
(cd "$work" && runuser -u postgres -- make -s installcheck REGRESS= PG_CONFIG="$GUARD_PG_CONFIG") 2>&1 | tee "$log"
for f in "$work"/tmp_check/log/regress_log_*; do
	[ -f "$f" ] && grep -q '^\[.*\] not ok' "$f" && { echo "--- $f"; grep -B2 -A20 'not ok' "$f" | head -80; }
done
total=$(grep -oE 'Tests=[0-9]+' "$log" | grep -oE '[0-9]+' | tail -1)
bad=$(grep -oE 'Tests: [0-9]+ Failed: [0-9]+' "$log" | awk '{s += $4} END {print s + 0}')
if [ -n "$total" ]; then
	grep -q '^Result: PASS' "$log" || [ "$bad" -gt 0 ] || bad=1
	count $((total - bad)) "$bad"
else
	count 0 1
fi

if [ "${GUARD_SKIP_PGREGRESS:-0}" != 1 ] && [ -x "$GUARD_ROOT/test/pgregress/run.sh" ]; then
	say "PostgreSQL regression suite, with and without guard preloaded"
	# one test: the core suite gives identical results with and without guard
	if PG_CONFIG="$GUARD_PG_CONFIG" "$GUARD_ROOT/test/pgregress/run.sh"; then count 1 0; else count 0 1; fi
fi

say "TPC-H: staging plans as production under a statistics profile (test/tpch/run.sh)"
# one test per query: its plan_hash in staging under the profile equals production's
(cd "$work" && runuser -u postgres -- env PG_CONFIG="$GUARD_PG_CONFIG" bash test/tpch/run.sh) 2>&1 | tee "$log"
if line=$(grep -oE 'under the profile: [0-9]+ of [0-9]+' "$log"); then
	same=$(echo "$line" | awk '{print $4}'); all=$(echo "$line" | awk '{print $6}')
	count "$same" $((all - same))
else
	count 0 1
fi

# add_line LINE: add a nested run's "N passed, N failed" to the totals
add_line() {
	if [[ $1 =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		count "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	else
		count 0 1			# did not even finish
	fi
}

# PostgreSQL 18 beside 15: only from the top-level run against Debian's 15
if [ "$GUARD_PG_CONFIG" = /usr/bin/pg_config ] && [ "${GUARD_SKIP_PG18:-0}" != 1 ]; then
	pg18=${GUARD_PG18_CACHE:-/var/cache/guard-pg18}
	say "PostgreSQL 18: build once into $pg18 (test/pg18/build.sh)"
	if bash "$GUARD_ROOT/test/pg18/build.sh"; then
		say "PostgreSQL 18: the whole suite again (test/pg18/run.sh)"
		GUARD_SKIP_PGREGRESS=${GUARD_SKIP_PGREGRESS:-0} bash "$GUARD_ROOT/test/pg18/run.sh" 2>&1 | tee "$work/pg18.log"
		add_line "$(tail -1 "$work/pg18.log")"
		say "PostgreSQL 15 and 18: identical hashes for identical plans (test/pg18/crossversion.sh)"
		if bash "$GUARD_ROOT/test/pg18/crossversion.sh"; then count 1 0; else count 0 1; fi
		if [ -f "$GUARD_ROOT/test/pg18/upgrade.sh" ]; then
			say "pg_upgrade from 15 to 18 with guard (test/pg18/upgrade.sh)"
			bash "$GUARD_ROOT/test/pg18/upgrade.sh" 2>&1 | tee "$work/upgrade.log"
			add_line "$(tail -1 "$work/upgrade.log")"
		fi
	else
		echo "building PostgreSQL 18 failed"
		count 0 1
	fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
