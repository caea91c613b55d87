#!/bin/bash
# The statistics profile on TPC-H (doc/statistics-profile.md): a production
# database at scale factor PROD_SF and a staging database at STAGING_SF, in
# a throwaway cluster; the 22 queries are planned in production, in staging
# as it is, and in staging under production's profile, and their plan_hash
# compared.  Exit 0 when every query has production's plan under the
# profile.
#
#   test/tpch/run.sh [PROD_SF [STAGING_SF]]     (as the postgres user)
#
# PG_CONFIG picks the server (default: pg_config on PATH).  Prints one line
# per query and the totals; GROWTH=F also plans staging at F x production.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prod_sf=${1:-0.05}
staging_sf=${2:-0.001}
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
pg_guard=${PG_GUARD:-$bindir/pg_guard}
port=${PGPORT_TPCH:-$((20000 + $$ % 10000))}
work=$(mktemp -d /tmp/guard-tpch.XXXXXX)
data=$work/data
trap '"$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

"$bindir/initdb" -D "$data" -A trust -U postgres --no-sync >/dev/null
cat >> "$data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$work'
shared_preload_libraries = 'guard'
fsync = off
max_wal_size = 2GB
CONF
"$bindir/pg_ctl" -D "$data" -l "$work/log" -w start >/dev/null
export PGHOST=$work PGPORT=$port PGUSER=postgres
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

for db in prod staging; do
	psql -d postgres -c "CREATE DATABASE $db"
	psql -d $db -c "CREATE EXTENSION guard"
done
psql -d prod -v sf="$prod_sf" -f "$here/schema.sql" >/dev/null
psql -d staging -v sf="$staging_sf" -f "$here/schema.sql" >/dev/null

"$pg_guard" stats export -d prod -o "$work/profile.yaml"
"$pg_guard" stats import -d staging "$work/profile.yaml" --enable ${GROWTH:+--growth $GROWTH}

plan_hash() {	# db, query file, settings
	psql -d "$1" -At -c "$3" -c "SELECT plan_hash FROM guard.explain(\$q\$$(cat "$2")\$q\$)" | tail -1
}
same=0 same_without=0 n=0
printf '%-4s %-21s %-21s %-21s\n' query production staging+profile staging
for q in "$here"/queries/q*.sql; do
	name=$(basename "$q" .sql)
	p=$(plan_hash prod "$q" "SET guard.stats_profile = off")
	s=$(plan_hash staging "$q" "SET guard.stats_profile = on")
	w=$(plan_hash staging "$q" "SET guard.stats_profile = off")
	n=$((n + 1))
	[ "$p" = "$s" ] && same=$((same + 1))
	[ "$p" = "$w" ] && same_without=$((same_without + 1))
	printf '%-4s %-21s %-21s %-21s %s\n' "$name" "$p" "$s" "$w" "$([ "$p" = "$s" ] && echo same || echo DIFFERENT)"
done
echo "production's plan_hash under the profile: $same of $n queries; without it: $same_without of $n"
if [ -n "${TPCH_KEEP:-}" ]; then
	echo "kept: PGHOST=$work PGPORT=$port (stop with pg_ctl -D $data stop)"
	trap - EXIT
fi
[ "$same" -eq "$n" ]
