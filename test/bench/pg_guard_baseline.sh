#!/usr/bin/env bash
# test/bench/pg_guard_baseline.sh -- how long pg_guard takes on a large
# baseline (issue 9's target: export and import of 10 000 entries, each
# under 2 s).  NOT part of CI.  As root, after make install:
#     test/bench/pg_guard_baseline.sh [N]
# Starts a throwaway cluster on a private socket, fills guard.baseline with
# N decisions (default 10 000; statement texts of ~200 bytes, three-line
# plan shapes), then times export, import --replace into a second
# database, a second export (compared byte for byte) and diff.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
N=${1:-10000}
work=$(guard_workdir pgguard-bench)
bin=$("$GUARD_PG_CONFIG" --bindir)
port=$((55000 + $$ % 1000))
cleanup() {
	as_postgres "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
as_postgres "$bin/initdb" -D "$work/data" -A trust -U postgres --no-sync >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
shared_preload_libraries = 'guard'
CONF
as_postgres "$bin/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null
export PGHOST=$work PGPORT=$port PGUSER=postgres
as_postgres "$bin/psql" -X -q -d postgres -c "CREATE EXTENSION guard" -c "CREATE DATABASE copy" \
	-c "INSERT INTO guard.baseline (query_hash, plan_hash, status, note, created_by, fingerprint_rules, query_role, query, plan)
	    SELECT g, -g, CASE WHEN g % 10 = 0 THEN 'rejected' ELSE 'approved' END, 'bench ' || g, 'postgres', 2, 'app',
	           'SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > \$1 AND o.status = \$2 AND c.region = ' || g,
	           E'Hash Join\n  Seq Scan on public.orders_' || g || E'\n  Hash\n    Index Scan using customers_pkey on public.customers'
	      FROM generate_series(1, $N) g"
as_postgres "$bin/psql" -X -q -d copy -c "CREATE EXTENSION guard"
t() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); printf '%-40s %.2f s\n' "$label" "$(echo "$e - $s" | bc)"; }
label="export of $N entries" t as_postgres env PGHOST=$work PGPORT=$port "$bin/pg_guard" baseline export -d postgres -o "$work/a.yaml"
label="import --replace of $N entries" t as_postgres env PGHOST=$work PGPORT=$port "$bin/pg_guard" baseline import -d copy --replace "$work/a.yaml" 2>/dev/null
label="export again" t as_postgres env PGHOST=$work PGPORT=$port "$bin/pg_guard" baseline export -d copy -o "$work/b.yaml"
cmp "$work/a.yaml" "$work/b.yaml" && echo "round trip: byte-identical ($(stat -c %s "$work/a.yaml") bytes)"
label="diff of two $N-entry files" t as_postgres "$bin/pg_guard" diff "$work/a.yaml" "$work/b.yaml"
