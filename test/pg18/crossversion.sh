#!/usr/bin/env bash
# Fingerprints across majors, as root:
#   bash test/pg18/crossversion.sh
# Starts a throwaway PostgreSQL 15 (the system's) and a throwaway 18 (the
# cached build of test/pg18/build.sh), each on a unix socket in a private
# directory, with guard preloaded.  Builds guard for each and installs it
# (into the system's 15 under /tmp/guard-test.lock, into the 18 cache
# only).  Creates the same schema (crossversion.sql) in both and plans the
# same statements (crossversion.stmts) through guard.explain(), under
# guard.fingerprint_rules = 2 and then 1, next to EXPLAIN (COSTS OFF).
# Prints one row per statement and exits 0 only if, under rules 2, both
# hashes agree on 15 and 18 wherever the EXPLAIN (COSTS OFF) texts agree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "run this as root" >&2; exit 2; }
CACHE=${GUARD_PG18_CACHE:-/var/cache/guard-pg18}
PGC15=/usr/bin/pg_config
PGC18=$CACHE/pg18/bin/pg_config
bash "$here/build.sh" >/dev/null

work=$(guard_workdir crossversion)
pids=()
stop_all() {
	for v in 15 18; do
		[ -f "$work/pg$v/data/postmaster.pid" ] &&
			as_postgres "$(bin $v)/pg_ctl" -D "$work/pg$v/data" -m fast -w stop >/dev/null 2>&1
	done
	rm -rf "$work"
}
trap stop_all EXIT
bin() { if [ "$1" = 15 ]; then $PGC15 --bindir; else $PGC18 --bindir; fi; }

# build each in a copy: objects of one major must not be linked for the other
for v in 15 18; do
	pgc=$PGC15; [ $v = 18 ] && pgc=$PGC18
	mkdir -p "$work/src$v"
	tar -C "$GUARD_ROOT" --exclude=.git --exclude='tmp_check*' --exclude='*.o' \
		--exclude='*.so' --exclude='*.bc' --exclude=.guard-built-for -cf - . | tar -C "$work/src$v" -xf -
	make -C "$work/src$v" -s PG_CONFIG="$pgc" PG_CFLAGS=-Werror >/dev/null
	if [ $v = 15 ]; then
		guard_locked make -C "$work/src$v" -s PG_CONFIG="$pgc" install >/dev/null
	else
		make -C "$work/src$v" -s PG_CONFIG="$pgc" install >/dev/null
	fi
done

port() { echo $((54000 + $1 + 100 * ($$ % 50))); }
# start V RULES: (re)start the cluster of major V under fingerprint rules RULES
start() {
	local v=$1 rules=$2 d="$work/pg$v"
	if [ ! -d "$d/data" ]; then
		mkdir -p "$d" && chown postgres: "$d" && chmod 700 "$d"
		as_postgres "$(bin $v)/initdb" -D "$d/data" -A trust -U postgres --no-sync >/dev/null
		cat >> "$d/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$d'
port = $(port $v)
shared_preload_libraries = 'guard'
guard.explain_verdict = off
max_parallel_workers_per_gather = 0
jit = off
CONF
	fi
	echo "guard.fingerprint_rules = $rules" >> "$d/data/postgresql.conf"
	as_postgres "$(bin $v)/pg_ctl" -D "$d/data" -l "$d/log" -w restart >/dev/null 2>&1 ||
		as_postgres "$(bin $v)/pg_ctl" -D "$d/data" -l "$d/log" -w start >/dev/null
}
sql() {
	local v=$1; shift
	as_postgres "$(bin $v)/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$work/pg$v" -p "$(port $v)" -d postgres "$@"
}

# hashes V NAME SETS STMT: "query_hash plan_hash" of the statement
hashes() {
	sql "$1" -c "$3" -c "SELECT query_hash || ' ' || plan_hash FROM guard.explain(\$gq\$$4\$gq\$)" | tail -1
}
# explain V SETS STMT: EXPLAIN (COSTS OFF), a generic plan for $n statements
explain() {
	if [[ "$3" == *'$1'* ]]; then
		sql "$1" -c "$2" -c "PREPARE p AS $3" -c "EXPLAIN (COSTS OFF) EXECUTE p(1)"
	else
		sql "$1" -c "$2" -c "EXPLAIN (COSTS OFF) $3"
	fi
}

declare -A q p ex
for rules in 2 1; do
	for v in 15 18; do
		start $v $rules
		[ $rules = 2 ] && sql $v -f "$here/crossversion.sql" >/dev/null
		[ "$(sql $v -c 'SHOW guard.fingerprint_rules')" = $rules ] || { echo "rules $rules not in force on $v" >&2; exit 2; }
		while IFS='|' read -r name sets stmt; do
			[[ -z "$name" || "$name" == \#* ]] && continue
			[ -n "$sets" ] || sets="SELECT"
			read -r qh ph <<<"$(hashes $v "$name" "$sets" "$stmt")"
			q[$rules,$v,$name]=$qh; p[$rules,$v,$name]=$ph
			if [ $rules = 2 ]; then
				explain $v "$sets" "$stmt" > "$work/$name.$v.plan"
				ex[$v,$name]=$(md5sum < "$work/$name.$v.plan" | cut -c1-8)
			fi
		done < "$here/crossversion.stmts"
	done
done

printf '%-17s %-8s | %-12s %-12s | %-12s %-12s\n' statement explain "v2 query" "v2 plan" "v1 query" "v1 plan"
fail=0; n=0; same_ex=0; v2q=0; v2p=0; v1q=0; v1p=0
yn() { [ "$1" = "$2" ] && echo same || echo differ; }
while IFS='|' read -r name sets stmt; do
	[[ -z "$name" || "$name" == \#* ]] && continue
	n=$((n + 1))
	e=$(yn "${ex[15,$name]}" "${ex[18,$name]}")
	a=$(yn "${q[2,15,$name]}" "${q[2,18,$name]}"); b=$(yn "${p[2,15,$name]}" "${p[2,18,$name]}")
	c=$(yn "${q[1,15,$name]}" "${q[1,18,$name]}"); d=$(yn "${p[1,15,$name]}" "${p[1,18,$name]}")
	[ $e = same ] && same_ex=$((same_ex + 1))
	[ $a = same ] && v2q=$((v2q + 1)); [ $b = same ] && v2p=$((v2p + 1))
	[ $c = same ] && v1q=$((v1q + 1)); [ $d = same ] && v1p=$((v1p + 1))
	mark=""
	if [ $e = same ] && { [ $a != same ] || [ $b != same ]; }; then mark="  <-- FAIL"; fail=1; fi
	printf '%-17s %-8s | %-12s %-12s | %-12s %-12s%s\n' "$name" "$e" "$a" "$b" "$c" "$d" "$mark"
done < "$here/crossversion.stmts"
# where the plans differ, show how (the hashes may differ there)
while IFS='|' read -r name sets stmt; do
	[[ -z "$name" || "$name" == \#* ]] && continue
	[ "${ex[15,$name]}" = "${ex[18,$name]}" ] && continue
	echo; echo "--- $name: EXPLAIN (COSTS OFF) on 15 (-) and 18 (+)"
	diff -u "$work/$name.15.plan" "$work/$name.18.plan" | tail -n +3 || true
done < "$here/crossversion.stmts"
# 18 only: RETURNING old.* and new.* are different statements (under rules 1
# and 2: the Var's varreturningtype counts only when it is not the default)
for rules in 1 2; do
	start 18 $rules
	read -r qo _ <<<"$(hashes 18 old SELECT 'UPDATE notes SET body = body WHERE id = 5 RETURNING old.body')"
	read -r qn _ <<<"$(hashes 18 new SELECT 'UPDATE notes SET body = body WHERE id = 5 RETURNING new.body')"
	read -r qd _ <<<"$(hashes 18 plain SELECT 'UPDATE notes SET body = body WHERE id = 5 RETURNING body')"
	if [ "$qo" != "$qn" ] && [ "$qo" != "$qd" ] && [ "$qn" != "$qd" ]; then
		echo "rules $rules on 18: RETURNING old.body, new.body and body have three query_hashes"
	else
		echo "rules $rules on 18: RETURNING old.body, new.body and body share a query_hash  <-- FAIL"
		fail=1
	fi
done
echo
echo "$n statements; EXPLAIN (COSTS OFF) identical on 15 and 18: $same_ex"
echo "rules 2: query_hash equal $v2q/$n, plan_hash equal $v2p/$n"
echo "rules 1: query_hash equal $v1q/$n, plan_hash equal $v1p/$n"
if [ $fail = 0 ]; then echo "PASS: rules 2 hashes agree wherever the plans agree"; else echo "FAIL"; fi
exit $fail
