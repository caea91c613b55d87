#!/usr/bin/env bash
# test/bench/pg_guard_baseline.sh -- how long pg_guard takes on a large
# baseline (issue 9's target: export and import of 10 000 entries, each
# under 2 s).  NOT part of CI.  As root, after make install:
#     test/bench/pg_guard_baseline.sh [N]
# Starts a throwaway cluster on a private socket, fills guard.baseline with
# N decisions (default 10 000; statement texts of ~200 bytes, three-line
# plan shapes), then times export, import --replace into a second
# database, a second export (compared byte for byte), diff, a check of N
# observed plans, and the export and import of a statistics profile of
# 2 000 relations and 10 000 columns.
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
guard.max_plans = 30000
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

# check of N observed plans against the N-entry baseline: N distinct
# statements (a column of one of 100 tables, filtered on another), each run
# once in the second database
as_postgres "$bin/psql" -X -q -d copy \
	-c "DO \$\$BEGIN FOR t IN 1..100 LOOP EXECUTE format('CREATE TABLE t%s (c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int, c9 int, c10 int)', t); END LOOP; END\$\$" \
	-c "SELECT FROM guard.reset()" \
	-c "DO \$\$BEGIN FOR i IN 0..$N - 1 LOOP EXECUTE format('SELECT c%s FROM t%s WHERE c%s = 1', i % 10 + 1, i / 100 % 100 + 1, i / 10 % 10 + 1); END LOOP; END\$\$"
plans=$(as_postgres "$bin/psql" -X -At -d copy -c "SELECT count(*) FROM guard.plans WHERE database = 'copy' AND query LIKE 'SELECT c%'")
check_quietly() { as_postgres env PGHOST=$work PGPORT=$port "$bin/pg_guard" check -d copy --baseline "$work/a.yaml" >/dev/null || true; }
label="check of $plans observed plans" t check_quietly

# a statistics profile of 2 000 relations (1 000 tables and their primary
# keys) and 10 000 columns: export, and import into a database of the same
# schema
as_postgres "$bin/psql" -X -q -d postgres -c "CREATE DATABASE prof_src" -c "CREATE DATABASE prof_dst"
for db in prof_src prof_dst; do
	as_postgres "$bin/psql" -X -q -d $db -c "CREATE EXTENSION guard" \
		-c "DO \$\$BEGIN FOR i IN 1..1000 LOOP EXECUTE format('CREATE TABLE p%s (id int PRIMARY KEY, a int, b text, c date, d numeric, e int, f text, g bool, h float8, i int)', i); END LOOP; END\$\$"
done
as_postgres "$bin/psql" -X -q -d prof_src \
	-c "DO \$\$BEGIN FOR i IN 1..1000 LOOP EXECUTE format('INSERT INTO p%s SELECT g, g %% 100, ''b'' || (g %% 50), date ''2026-01-01'' + g %% 300, g / 7.0, g %% 3, md5(g::text), g %% 2 = 0, g / 3.0, g %% 1000 FROM generate_series(1, 300) g', i); END LOOP; END\$\$" \
	-c "ANALYZE"
label="stats export (2 000 relations, 10 000 columns)" t as_postgres env PGHOST=$work PGPORT=$port "$bin/pg_guard" stats export -d prof_src -o "$work/p.yaml"
import_quietly() { as_postgres env PGHOST=$work PGPORT=$port "$bin/pg_guard" stats import -d prof_dst "$work/p.yaml" 2>/dev/null; }
label="stats import of the same" t import_quietly
echo "profile file: $(stat -c %s "$work/p.yaml") bytes"
