--
-- guard.incidents: what each mode records, deduplication, rollback,
-- resolution by approve/reject, reopening, approve_observed, privacy.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE inc_events(id bigint PRIMARY KEY, kind int, payload text);
INSERT INTO inc_events SELECT g, g % 100, 'p' FROM generate_series(1, 30000) g;
VACUUM ANALYZE inc_events;
TRUNCATE guard.baseline;
SELECT guard.reset();

SELECT payload FROM inc_events WHERE id = 1;
SELECT guard.approve_observed() > 0 AS adopted;

-- observe: the flagged plan runs; the incident says block would stop it
SET guard.mode = observe;
SELECT count(*) FROM inc_events WHERE kind = 7;
SELECT count(*) FROM inc_events WHERE kind = 8;
SELECT database, role, reason, relation, relation_rows, action, would_action,
       count, baseline_plan_hash IS NULL AS no_baseline, status, resolved,
       query, plan, first_seen <= last_seen AS ordered
  FROM guard.incidents;

-- warn: the same incident, counted, now warned
SET guard.mode = warn;
\set VERBOSITY terse
SELECT count(*) FROM inc_events WHERE kind = 9;
\set VERBOSITY default
SELECT reason, action, count FROM guard.incidents;

-- block: the incident survives the rollback of the blocked statement
SET guard.mode = block;
BEGIN;
\set VERBOSITY terse
SELECT count(*) FROM inc_events WHERE kind = 10;
\set VERBOSITY default
ROLLBACK;
SELECT reason, action, count FROM guard.incidents;

-- one incident per (query, plan, reason): another statement is another one
\set VERBOSITY terse
SELECT count(*) FROM inc_events WHERE payload = 'q';
\set VERBOSITY default
SELECT reason, action, count, query FROM guard.incidents ORDER BY incident_id;

-- the strict capture never adopts a plan with an open incident
SET guard.mode = observe;
SELECT guard.approve_observed(skip_flagged => true);

-- an approval that rolls back resolves nothing
BEGIN;
SELECT guard.approve(query_hash, plan_hash) FROM guard.incidents WHERE query LIKE '%kind%';
ROLLBACK;
SELECT query, status, resolved FROM guard.incidents ORDER BY incident_id;
-- nor one inside a rolled-back subtransaction
BEGIN;
SAVEPOINT s;
SELECT guard.approve(query_hash, plan_hash) FROM guard.incidents WHERE query LIKE '%kind%';
ROLLBACK TO s;
COMMIT;
SELECT query, status, resolved FROM guard.incidents ORDER BY incident_id;

-- a committed approval resolves the incident and unblocks the statement
SELECT guard.approve(query_hash, plan_hash, 'kind report scans on purpose')
  FROM guard.incidents WHERE query LIKE '%kind%';
SELECT query, status, resolved FROM guard.incidents ORDER BY incident_id;
SET guard.mode = block;
SELECT count(*) FROM inc_events WHERE kind = 11;
-- rejecting resolves too; running the rejected plan again raises no new alarm
-- (a decided plan is blocked, but the DBA already knows: issue 7, 6.1)
SELECT guard.reject(query_hash, plan_hash) FROM guard.incidents WHERE query LIKE '%payload%';
\set VERBOSITY terse
SELECT count(*) FROM inc_events WHERE payload = 'r';
\set VERBOSITY default
SELECT reason, action, status, resolved FROM guard.incidents WHERE query LIKE '%payload%'
 ORDER BY incident_id;

-- plan_regression names the approved plan it departs from
SET enable_indexscan = off; SET enable_bitmapscan = off;
\set VERBOSITY terse
SELECT payload FROM inc_events WHERE id = 2;
\set VERBOSITY default
RESET enable_indexscan; RESET enable_bitmapscan;
SELECT reason, relation, action, plan, baseline_plan
  FROM guard.incidents WHERE reason = 'plan_regression';

-- statements inside functions are incidents too
CREATE FUNCTION count_kind(k int) RETURNS bigint LANGUAGE sql
  AS $$ SELECT count(*) FROM inc_events WHERE kind + 0 = k $$;
\set VERBOSITY terse
SELECT count_kind(3);
\set VERBOSITY default
SELECT reason, action FROM guard.incidents WHERE query LIKE '%kind +%';

-- a statement that lost its parentheses departs from the approved plan of
-- the statement it came from
SELECT count(*) FROM inc_events WHERE id = 5 AND (kind = 1 OR payload = 'x');
SELECT guard.approve(query_hash, plan_hash) FROM guard.plans
 WHERE query LIKE '%AND (kind = $2 OR payload = $3)';
\set VERBOSITY terse
SELECT count(*) FROM inc_events WHERE id = 5 AND kind = 1 OR payload = 'x';
\set VERBOSITY default
SELECT reason, clause, plan, baseline_plan FROM guard.incidents
 WHERE query LIKE '%AND kind = $2 OR%' ORDER BY reason;

-- other roles' query texts stay hidden
CREATE ROLE guard_app4;
SET ROLE guard_app4;
SELECT DISTINCT query, clause FROM guard.incidents;
SELECT count(*) > 0 AS sees_incidents FROM guard.incidents;
RESET ROLE;
DROP ROLE guard_app4;

SELECT incidents, max_incidents, incident_evictions FROM guard.info;
SELECT guard.reset();
SELECT count(*) FROM guard.incidents;
RESET guard.mode;
DROP FUNCTION count_kind(int);
DROP TABLE inc_events;
TRUNCATE guard.baseline;
