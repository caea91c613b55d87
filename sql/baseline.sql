--
-- guard.baseline and the DBA's decisions: approve, reject, approve_observed.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE inbox(id int PRIMARY KEY, owner int, body text);
INSERT INTO inbox SELECT g, g % 100, 'b' FROM generate_series(1, 20000) g;
VACUUM ANALYZE inbox;
SELECT guard.reset();
TRUNCATE guard.baseline;

-- warm-up, then the initial capture: with skip_flagged, plans guard would
-- flag are left out (0.3's capture; the default adopts them: review.sql)
SELECT body FROM inbox WHERE id = 1;
SELECT count(*) FROM inbox WHERE owner = 3;
SELECT guard.approve_observed('initial capture', skip_flagged => true) > 0 AS adopted;
SELECT query, status FROM guard.plans
 WHERE query LIKE '%FROM inbox%' ORDER BY query;
SELECT query, plan, status, note, created_by = current_user AS by_me
  FROM guard.baseline WHERE query LIKE '%FROM inbox%' ORDER BY query;

-- reject the full scan, with a note; the decision is recorded with its texts
SELECT guard.reject(query_hash, plan_hash, 'scans the whole inbox')
  FROM guard.plans WHERE query LIKE '%owner = $1%';
SELECT query, plan, status, note FROM guard.baseline WHERE status = 'rejected';
SELECT status FROM guard.plans WHERE query LIKE '%owner = $1%';

-- a later decision replaces the earlier one
SELECT guard.approve(query_hash, plan_hash, 'fine at night')
  FROM guard.plans WHERE query LIKE '%owner = $1%';
SELECT status, note FROM guard.baseline WHERE query LIKE '%owner = $1%';
-- approve_observed never overrides a decision
SELECT guard.reject(query_hash, plan_hash)
  FROM guard.plans WHERE query LIKE '%owner = $1%';
SELECT guard.approve_observed() > 0 AS adopted;
SELECT status, note FROM guard.baseline WHERE query LIKE '%owner = $1%';

-- a plan never observed can be decided too (e.g. from CI output): no
-- texts, and a warning that guard cannot tell which relations it reads
SELECT guard.approve(42, 43);
SELECT query_hash, plan_hash, status, query IS NULL AS no_text FROM guard.baseline WHERE query_hash = 42;

-- bad input
SELECT guard.approve(NULL, 1);
SELECT guard.reject(1, NULL);
\set VERBOSITY terse
INSERT INTO guard.baseline (query_hash, plan_hash, status, created_by) VALUES (1, 2, 'maybe', 'x');
\set VERBOSITY default

-- decisions are the DBA's: an application role can neither decide nor
-- read or write the baseline; a role granted the functions can decide
CREATE ROLE guard_app2;
CREATE ROLE guard_dba;
GRANT USAGE ON SCHEMA guard TO guard_dba;
GRANT EXECUTE ON FUNCTION guard.approve(bigint, bigint, text), guard.reject(bigint, bigint, text, timestamptz)
   TO guard_dba;
SET ROLE guard_app2;
SELECT guard.approve(1, 1);
SELECT guard.reject(1, 1);
SELECT guard.approve_observed();
SELECT count(*) FROM guard.baseline;
INSERT INTO guard.baseline (query_hash, plan_hash, status, created_by) VALUES (1, 1, 'approved', 'me');
RESET ROLE;
SET ROLE guard_dba;
SELECT guard.approve(7, 8, 'by the DBA');
RESET ROLE;
SELECT status, note, created_by FROM guard.baseline WHERE query_hash = 7;
REVOKE ALL ON FUNCTION guard.approve(bigint, bigint, text), guard.reject(bigint, bigint, text, timestamptz)
   FROM guard_dba;
REVOKE USAGE ON SCHEMA guard FROM guard_dba;
DROP ROLE guard_app2;
DROP ROLE guard_dba;

-- the baseline is dumped with the data of the extension
SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'guard';
TRUNCATE guard.baseline;
