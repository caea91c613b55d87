#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine, as root:
#   bash test/demo.sh
# Installs what is missing, builds and installs guard, starts a throwaway
# cluster with guard preloaded (private socket, stopped at the end), and
# replays the incident guard exists for: a release loses a pair of
# parentheses, and a query that read 50 rows through an index becomes a
# sequential scan of the whole notifications table.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

guard_deps
guard_build

work=$(guard_workdir demo)
port=${GUARD_DEMO_PORT:-54329}
pgdata="$work/data"
cleanup() {
	if [ -f "$pgdata/postmaster.pid" ]; then
		as_postgres pg_ctl -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

say "starting a throwaway cluster with guard preloaded (socket $work, port $port)"
as_postgres initdb -D "$pgdata" -A trust -U postgres >/dev/null
cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
shared_preload_libraries = 'guard'
compute_query_id = on
guard.mode = observe
CONF
as_postgres pg_ctl -D "$pgdata" -l "$work/server.log" -w start >/dev/null

psql_demo() { as_postgres psql -h "$work" -p "$port" -d postgres -X -v ON_ERROR_STOP=1 "$@"; }

say "the notifications table: 500 000 rows, index on (user_id, created_at)"
psql_demo -q <<'SQL'
CREATE EXTENSION guard;
CREATE TABLE notifications(
    id          bigint PRIMARY KEY,
    user_id     int NOT NULL,
    is_read     boolean NOT NULL,
    is_mention  boolean NOT NULL,
    created_at  timestamptz NOT NULL,
    body        text);
INSERT INTO notifications
SELECT g, g % 20000, random() < 0.8, random() < 0.05,
       now() - g * interval '1 minute', 'notification ' || g
  FROM generate_series(1, 500000) g;
CREATE INDEX notifications_user_created ON notifications(user_id, created_at);
VACUUM ANALYZE notifications;
SELECT guard.reset();
SQL

good='SELECT * FROM notifications WHERE user_id = $1 AND (is_read = false OR is_mention = true) ORDER BY created_at DESC LIMIT 50'
bad='SELECT * FROM notifications WHERE user_id = $1 AND is_read = false OR is_mention = true ORDER BY created_at DESC LIMIT 50'

say "before the release: the application runs the good query"
echo "    $good"
psql_demo -q -o /dev/null <<SQL
PREPARE inbox(int) AS $good;
EXECUTE inbox(42); EXECUTE inbox(43); EXECUTE inbox(44); EXECUTE inbox(45);
EXECUTE inbox(46); EXECUTE inbox(47); EXECUTE inbox(48); EXECUTE inbox(49);
SQL

say "the DBA adopts the warm-up as the baseline: every plan that ran before the release"
psql_demo -c "SELECT guard.approve_observed('warm-up before the release') AS approved"
psql_demo -c "SELECT status, plan FROM guard.baseline WHERE query LIKE '%notifications%'"

say "the baseline becomes a reviewed file in the application's repository (pg_guard baseline export)"
pg_guard_demo() { as_postgres env PGHOST="$work" PGPORT="$port" PGDATABASE=postgres pg_guard "$@"; }
pg_guard_demo baseline export -o "$work/baseline.yaml"
grep -B9 -A6 'query: ".*FROM notifications WHERE user_id' "$work/baseline.yaml" | head -16 | sed 's/^/    /'

say "production exports its statistics profile too: what its planner reads (pg_guard stats export)"
pg_guard_demo stats export -o "$work/profile.yaml"
grep -A8 'name: "notifications"$' "$work/profile.yaml" | sed 's/^/    /'

say "CI builds staging from the migrations, with 100 rows of fixtures"
psql_demo -q -c "CREATE DATABASE ci"
psql_ci() { as_postgres psql -h "$work" -p "$port" -d ci -X -v ON_ERROR_STOP=1 "$@"; }
pg_guard_ci() { as_postgres env PGHOST="$work" PGPORT="$port" PGDATABASE=ci pg_guard "$@"; }
psql_ci -q <<'SQL'
CREATE EXTENSION guard;
CREATE TABLE notifications(
    id          bigint PRIMARY KEY,
    user_id     int NOT NULL,
    is_read     boolean NOT NULL,
    is_mention  boolean NOT NULL,
    created_at  timestamptz NOT NULL,
    body        text);
CREATE INDEX notifications_user_created ON notifications(user_id, created_at);
INSERT INTO notifications
SELECT g, g % 10, g % 5 > 0, g % 20 = 0, now() - g * interval '1 minute', 'fixture ' || g
  FROM generate_series(1, 100) g;
VACUUM ANALYZE notifications;
SQL
echo "    on its own, staging plans the bad release like the good one (100 rows: a Seq Scan is cheapest):"
psql_ci -c "EXPLAIN (COSTS OFF) ${bad//\$1/42}" | sed 's/^/    /'

say "CI imports production's profile: staging now plans at production's size"
pg_guard_ci stats import "$work/profile.yaml" --enable 2>&1 | sed 's/^/    /'
psql_ci -c "EXPLAIN (COSTS OFF) ${good//\$1/42}" | sed 's/^/    /'

say "CI, release 1: the test suite runs the good query; pg_guard check passes"
# only the suite's statements are judged, not the migrations' and fixtures'
psql_ci -q -c "SELECT guard.reset(0, (SELECT oid FROM pg_database WHERE datname = 'ci'), 0)" -o /dev/null
psql_ci -q -o /dev/null <<SQL
PREPARE inbox(int) AS $good;
EXECUTE inbox(42); EXECUTE inbox(43);
SQL
set +e
pg_guard_ci check --baseline "$work/baseline.yaml" | sed 's/^/    /'
status=${PIPESTATUS[0]}
set -e
echo "    (pg_guard exit status $status: the build passes)"

say "CI, release 2: the same query with its parentheses lost"
echo "    $bad"
echo "    which PostgreSQL reads as (user_id = \$1 AND NOT is_read) OR is_mention"
psql_ci -q -c "SELECT guard.reset(0, (SELECT oid FROM pg_database WHERE datname = 'ci'), 0)" -o /dev/null
psql_ci -q -o /dev/null <<SQL
PREPARE inbox(int) AS $bad;
EXECUTE inbox(42); EXECUTE inbox(43);
SQL
set +e
pg_guard_ci check --baseline "$work/baseline.yaml" | sed 's/^/    /'
status=${PIPESTATUS[0]}
set -e
echo "    (pg_guard exit status $status: the CI job fails before the release ships;"
echo "     --format junit, github or html for CI reports; doc/ci.md has the job)"

say "had it shipped anyway: production runs the release with its parentheses lost"
psql_demo -q -o /dev/null <<SQL
PREPARE inbox(int) AS $bad;
EXECUTE inbox(42); EXECUTE inbox(43); EXECUTE inbox(44);
SQL

say "what guard observed (guard.plans)"
psql_demo <<'SQL'
\x on
SELECT query, query_hash, plan_hash, plan, seqscans, seqscan_rows,
       calls, generic_calls, custom_calls
  FROM guard.plans
 WHERE query LIKE '%notifications%'
 ORDER BY first_seen;
SQL

say "guard.explain, before anything runs: same verdict in CI or in production"
psql_demo <<SQL
\x on
SELECT 'good' AS version, * FROM guard.explain(\$q\$$good\$q\$)
UNION ALL
SELECT 'lost parentheses', * FROM guard.explain(\$q\$$bad\$q\$);
SQL

say "in observe mode the lost parentheses already raised an incident (and one LOG line)"
psql_demo <<'SQL'
\x on
SELECT incident_id, database, role, reason, relation, relation_rows, action,
       would_action, count, clause
  FROM guard.incidents ORDER BY incident_id;
SQL
grep -a 'LOG:  guard incident' "$work/server.log" | head -2 | cut -c1-400 | sed 's/^/    /'

say "production runs with guard.mode = block (set per database by a superuser)"
psql_demo -q -c "ALTER DATABASE postgres SET guard.mode = 'block'"
echo "    an on-call tool listens on channel guard_incident..."
as_postgres psql -h "$work" -p "$port" -d postgres -X -q -c "LISTEN guard_incident" \
	-c "SELECT pg_sleep(3)" -c "SELECT 1" >"$work/listener.out" 2>&1 &
listener=$!
sleep 1
echo "    EXPLAIN shows the verdict without running anything:"
psql_demo -c "EXPLAIN (COSTS OFF) ${bad/\$1/42}"
echo "    the release ships the lost parentheses again:"
as_postgres psql -h "$work" -p "$port" -d postgres -X <<SQL || true
PREPARE inbox(int) AS $bad;
EXECUTE inbox(42);
SQL
wait "$listener" || true
echo "    ...and the listener got the alert, although the blocked transaction rolled back:"
grep -a 'Asynchronous notification' "$work/listener.out" | head -1 | cut -c1-400 | sed 's/^/    /' || true
echo "    ...while the good query, and everything else, keeps running:"
psql_demo -c "SELECT count(*) AS rows_served FROM (SELECT * FROM notifications WHERE user_id = 42 AND (is_read = false OR is_mention = true) ORDER BY created_at DESC LIMIT 50) n"

say "the review queue: the incident waits in guard.incidents, with the new plan and the plan it replaced"
psql_demo <<'SQL'
\x on
SELECT incident_id, reason, relation, relation_rows, action, count, clause,
       query, plan, baseline_plan
  FROM guard.incidents WHERE reason = 'new_seqscan';
SQL

say "limp mode instead of errors: at most 2 sessions at a time run the flagged plan"
psql_demo -q -c "ALTER DATABASE postgres SET guard.flagged_max_concurrency = 2"
psql_demo -q -o /dev/null <<SQL
PREPARE inbox(int) AS $bad;
EXECUTE inbox(42);
SQL
psql_demo -c "SELECT reason, action, count FROM guard.incidents WHERE reason = 'new_seqscan'"
psql_demo -q -c "ALTER DATABASE postgres RESET guard.flagged_max_concurrency"

say "review: the DBA rejects the plan with one call (guard.approve would let it run)"
psql_demo <<'SQL'
SELECT guard.reject(query_hash, plan_hash, 'lost parentheses: scans all notifications')
  FROM guard.incidents WHERE reason = 'new_seqscan';
SELECT status, note, created_by, query FROM guard.baseline WHERE status = 'rejected';
SELECT reason, status, resolved FROM guard.incidents ORDER BY incident_id;
SQL

say "the fingerprints are portable: the same statement in a fresh database, created another way, hashes the same"
psql_demo -q -c "CREATE DATABASE staging"
as_postgres psql -h "$work" -p "$port" -d staging -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION guard;
CREATE TABLE padding(x int);
CREATE TABLE notifications(id bigint PRIMARY KEY, user_id int NOT NULL, is_read boolean NOT NULL,
    is_mention boolean NOT NULL, created_at timestamptz NOT NULL, body text);
CREATE INDEX notifications_user_created ON notifications(user_id, created_at);
SQL
as_postgres psql -h "$work" -p "$port" -d staging -X -v ON_ERROR_STOP=1 \
	-c "SELECT 'staging' AS db, query_hash FROM guard.explain(\$q\$$bad\$q\$)"
psql_demo -c "SELECT 'production' AS db, query_hash FROM guard.explain(\$q\$$bad\$q\$)"

say "done: the cluster is stopped and removed"
