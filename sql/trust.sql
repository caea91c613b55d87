--
-- Trust (issue 7): one judgment per plan, and no way around it for an
-- application role.  Each block below failed before its fix.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE trust_big(id int PRIMARY KEY, a int, b int, c int, payload text);
INSERT INTO trust_big SELECT g, g % 10, g % 7, g % 3, 'p' || g FROM generate_series(1, 30000) g;
VACUUM ANALYZE trust_big;
TRUNCATE guard.baseline;
SELECT guard.reset();
CREATE ROLE trust_app;
GRANT SELECT ON trust_big TO trust_app;
SET guard.mode = block;

-- 2.1 a PARALLEL SAFE function whose body seq-scans runs in a parallel
-- worker when any role forces parallel mode: it is judged there too
CREATE FUNCTION trust_par() RETURNS bigint LANGUAGE plpgsql PARALLEL SAFE AS
$$ BEGIN RETURN (SELECT count(*) FROM trust_big WHERE payload LIKE 'par'); END $$;
SET ROLE trust_app;
SET max_parallel_workers_per_gather = 2;
-- force_parallel_mode is called debug_parallel_query since PostgreSQL 16
SELECT set_config(name, 'on', false) AS forced FROM pg_settings
 WHERE name IN ('force_parallel_mode', 'debug_parallel_query');
EXPLAIN (COSTS OFF) SELECT trust_par();
\set VERBOSITY terse
SELECT trust_par();
\set VERBOSITY default
SELECT set_config(name, reset_val, false) AS reset FROM pg_settings
 WHERE name IN ('force_parallel_mode', 'debug_parallel_query');
SET max_parallel_workers_per_gather = 0;
RESET ROLE;
SELECT reason, relation, action FROM guard.incidents WHERE query LIKE '%payload LIKE $1%';

-- 2.2 a function the planner runs while guard.explain plans (constant
-- folding) runs its statements with the verdict enforced
CREATE FUNCTION trust_imm(int) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RETURN (SELECT count(*) FROM trust_big WHERE payload = 'imm' || $1); END $$;
\set VERBOSITY terse
SELECT verdict FROM guard.explain('SELECT trust_imm(1)');
\set VERBOSITY default
SELECT reason, action FROM guard.incidents WHERE query LIKE '%payload = $2 || $1%';
-- guard.explain itself records nothing
SELECT count(*) FROM guard.plans WHERE query LIKE '%trust_imm%';

-- 2.3 a lint that fails or gives up keeps the seq-scan verdict
SET guard.debug_fault = lint;
\set VERBOSITY terse
SELECT count(*) FROM trust_big WHERE a = 1 AND b = 2 OR c = 3;
SET guard.debug_fault = none;
-- a statement over 1 MB is not linted, and still judged
DO $$
BEGIN
  EXECUTE 'SELECT count(*) FROM trust_big WHERE a = 1 AND b = 3 OR c = 2 /* '
          || repeat('x', 2000000) || ' */';
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  RAISE NOTICE 'blocked: %', SQLERRM;
END $$;
\set VERBOSITY default

-- 6.7 the clause: comments are a space, every AND group is wrapped, and
-- it is cut at 1 kB
SET guard.mode = observe;
SELECT clause FROM guard.explain(E'SELECT 1 FROM trust_big WHERE a = 1 AND b = 2 -- two\n OR c = 3 AND id = 1 /* one */ OR payload = $1');
SELECT clause FROM guard.explain('SELECT 1 FROM trust_big WHERE ' ||
  (SELECT string_agg(format('a = %s AND b = %s', g, g), ' OR ') FROM generate_series(1, 10) g));
SELECT length(clause) <= 1024 AS capped, clause LIKE '% ...' AS marked
  FROM guard.explain('SELECT 1 FROM trust_big WHERE ' ||
  (SELECT string_agg(format('a = %s AND b = %s', g, g), ' OR ') FROM generate_series(1, 300) g));
SET guard.mode = block;

-- 3.3 settings that change verdicts reach cached plans
PREPARE trust_p AS SELECT count(*) FROM trust_big WHERE payload = 'prep';
\set VERBOSITY terse
EXECUTE trust_p;
SET guard.allow_seqscan = 'trust_big';
EXECUTE trust_p;
RESET guard.allow_seqscan;
EXECUTE trust_p;
SET guard.seqscan_min_rows = 100000;
EXECUTE trust_p;
RESET guard.seqscan_min_rows;
EXECUTE trust_p;
\set VERBOSITY default
DEALLOCATE trust_p;

-- 4.2 a table grown since its last ANALYZE: reported with the planner's
-- own estimate, not as "rejected" with no relation
CREATE TABLE trust_grown(id int, payload text);
ANALYZE trust_grown;
INSERT INTO trust_grown SELECT g, 'g' || g FROM generate_series(1, 200000) g;
DO $$
BEGIN
  PERFORM count(*) FROM trust_grown WHERE payload = 'x';
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  RAISE NOTICE '%', regexp_replace(SQLERRM, 'about \d+ rows', 'about N rows');
END $$;
SELECT reason, relation, relation_rows > 100000 AS planner_estimate
  FROM guard.incidents WHERE query LIKE '%trust_grown%';

-- 6.6 the HINT: a role that cannot approve is told to ask a DBA
SET ROLE trust_app;
DO $$
DECLARE h text;
BEGIN
  PERFORM count(*) FROM trust_big WHERE payload = 'hint';
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RAISE NOTICE '%', regexp_replace(h, '-?\d+', 'N', 'g');
END $$;
RESET ROLE;
DO $$
DECLARE h text;
BEGIN
  PERFORM count(*) FROM trust_big WHERE payload = 'hint';
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RAISE NOTICE '%', regexp_replace(h, '-?\d+', 'N', 'g');
END $$;

-- a statement prepared under one standard_conforming_strings and planned
-- under the other cannot make guard's text work fail the verdict
SET standard_conforming_strings = on;
PREPARE trust_scs AS SELECT count(*) FROM trust_big WHERE payload = 'b\';
SET plan_cache_mode = force_generic_plan;
SET standard_conforming_strings = off;
\set VERBOSITY terse
EXECUTE trust_scs;
\set VERBOSITY default
RESET standard_conforming_strings;
RESET plan_cache_mode;
DEALLOCATE trust_scs;

-- plans made while guard.mode was off are judged once it is on again
SET guard.mode = off;
PREPARE trust_off AS SELECT count(*) FROM trust_big WHERE payload = 'off';
EXECUTE trust_off;
SET guard.mode = block;
\set VERBOSITY terse
EXECUTE trust_off;
\set VERBOSITY default
DEALLOCATE trust_off;

-- a failure to record the plan, or an incident, keeps the verdict
SET guard.debug_fault = store;
\set VERBOSITY terse
SELECT count(*) FROM trust_big WHERE payload || 'x' = 'store fault';
SET guard.debug_fault = incident;
SELECT count(*) FROM trust_big WHERE length(payload) = -1;
\set VERBOSITY default
SET guard.debug_fault = none;

-- the decision functions run as the table's owner with their own
-- search_path: a reviewer's operator of its own is never theirs
CREATE ROLE trust_reviewer;
GRANT EXECUTE ON FUNCTION guard.forget(bigint, bigint) TO trust_reviewer;
CREATE SCHEMA trust_evil AUTHORIZATION trust_reviewer;
SET ROLE trust_reviewer;
CREATE FUNCTION trust_evil.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE NOTICE 'hijacked as %', current_user; RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR trust_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = trust_evil.eq);
SET search_path = trust_evil, pg_catalog;
SELECT guard.forget(1, 2);
RESET search_path;
RESET ROLE;
DROP SCHEMA trust_evil CASCADE;
REVOKE EXECUTE ON FUNCTION guard.forget(bigint, bigint) FROM trust_reviewer;
DROP ROLE trust_reviewer;

-- the nesting level is unwound by (sub)transaction aborts: after errors
-- raised inside the executor, caught or not, a client's statement is
-- still a top-level statement (guard.track = top records it)
SET guard.mode = observe;
SET guard.track = top;
CREATE FUNCTION trust_fail(int) RETURNS int LANGUAGE plpgsql AS
$$ BEGIN RETURN 1 / $1; END $$;
SELECT trust_fail(0);
DO $$ BEGIN PERFORM trust_fail(0); EXCEPTION WHEN division_by_zero THEN NULL; END $$;
SELECT 1 / (SELECT 0) AS boom;
BEGIN;
SAVEPOINT s;
SELECT trust_fail(0);
ROLLBACK TO s;
SELECT id FROM trust_big WHERE id = 42;
COMMIT;
SELECT id FROM trust_big WHERE id = 42;
SELECT query, calls FROM guard.plans WHERE query LIKE 'SELECT id FROM trust_big WHERE id = %';
RESET guard.track;
DROP FUNCTION trust_fail(int);
SET guard.mode = block;

-- TABLESAMPLE reads pages like a seq scan: SYSTEM (100) reads them all
\set VERBOSITY terse
SELECT count(*) FROM trust_big TABLESAMPLE SYSTEM (100);
\set VERBOSITY default
SELECT seqscans FROM guard.explain('SELECT count(*) FROM trust_big TABLESAMPLE BERNOULLI (50)');

-- partitions a statement names one by one count as their parent
CREATE TABLE trust_pt(id int, v int) PARTITION BY RANGE (id);
CREATE TABLE trust_pt_0 PARTITION OF trust_pt FOR VALUES FROM (0) TO (5000);
CREATE TABLE trust_pt_1 PARTITION OF trust_pt FOR VALUES FROM (5000) TO (10000);
CREATE TABLE trust_pt_2 PARTITION OF trust_pt FOR VALUES FROM (10000) TO (15000);
INSERT INTO trust_pt SELECT g, g FROM generate_series(0, 14999) g;
ANALYZE trust_pt;
SELECT seqscans, seqscan_rows, verdict FROM guard.explain(
  'SELECT count(*) FROM (SELECT v FROM trust_pt_0 UNION ALL SELECT v FROM trust_pt_1
   UNION ALL SELECT v FROM trust_pt_2) u WHERE v = 7');
DROP TABLE trust_pt;

-- a table analyzed while nearly empty, then filled with autovacuum off:
-- the planner estimates a few rows, its pages say otherwise
CREATE TABLE trust_stale(id int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO trust_stale VALUES (1, 'x');
DELETE FROM trust_stale;
ANALYZE trust_stale;
INSERT INTO trust_stale SELECT g, 'x' FROM generate_series(1, 300000) g;
DO $$
BEGIN
  PERFORM count(*) FROM trust_stale WHERE pad = 'y';
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  RAISE NOTICE '%', regexp_replace(SQLERRM, 'about \d+ rows', 'about N rows');
END $$;
SELECT relation_rows > 100000 AS by_its_pages FROM guard.incidents
 WHERE relation = 'public.trust_stale';
DROP TABLE trust_stale;

-- a capture taken in block mode does not approve what block mode stopped
\set VERBOSITY terse
SELECT count(*) FROM trust_big WHERE payload = 'refused' OR a = -1;
\set VERBOSITY default
SELECT guard.approve_observed('second capture') >= 0 AS done;
\set VERBOSITY terse
SELECT count(*) FROM trust_big WHERE payload = 'refused' OR a = -1;
\set VERBOSITY default

-- nor what limp mode throttled (it ran, slowly, as a flagged plan): guard
-- marks every plan it refused or throttled, whether or not its incident is
-- still in the queue
SET guard.flagged_max_concurrency = 1;
SELECT count(*) FROM trust_big WHERE payload = 'limp' OR b = -1;
RESET guard.flagged_max_concurrency;
SELECT guard.approve_observed('third capture') >= 0 AS done;
SELECT status FROM guard.plans WHERE query LIKE '%payload = $1 OR b = $2%';

-- a clause written without parentheses on purpose is acknowledged by
-- approving its plan: no more warnings, no more incidents
SET guard.mode = warn;
SELECT count(*) FROM trust_big WHERE id = 1 AND a = 1 OR id = 2;
SELECT guard.approve(query_hash, plan_hash, 'meant that way')
  FROM guard.incidents WHERE reason = 'andor_precedence' AND query LIKE '%id = $1 AND a = $2 OR id = $3%';
SELECT count(*) FROM trust_big WHERE id = 1 AND a = 1 OR id = 2;
SELECT reason, resolved FROM guard.incidents WHERE query LIKE '%id = $1 AND a = $2 OR id = $3%';
SET guard.mode = block;

-- one bug, one alarm across protocols: the same statement with literal
-- values and prepared with a parameter is one incident and one decision
SET guard.mode = observe;
SELECT count(*) FROM trust_big WHERE b = 3 AND payload <> 'proto';
PREPARE trust_proto(int) AS SELECT count(*) FROM trust_big WHERE b = $1 AND payload <> 'proto';
EXECUTE trust_proto(3);
SELECT reason, count FROM guard.incidents WHERE query LIKE '%WHERE b = $1 AND payload <> $2%';
SELECT count(DISTINCT query_hash) AS statements FROM guard.plans
 WHERE query LIKE '%WHERE b = $1 AND payload <> $2%';
SELECT count(guard.approve(query_hash, plan_hash, 'both protocols')) AS decisions
  FROM guard.incidents WHERE query LIKE '%WHERE b = $1 AND payload <> $2%';
SELECT status, resolved FROM guard.incidents WHERE query LIKE '%WHERE b = $1 AND payload <> $2%';
SET guard.mode = block;
SELECT count(*) FROM trust_big WHERE b = 3 AND payload <> 'proto';
EXECUTE trust_proto(3);
DEALLOCATE trust_proto;

-- the size floor does not trust widths the owner controls: fat rows
-- analyzed, then replaced by thin ones, still count by their live rows
CREATE TABLE trust_fat(id int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO trust_fat SELECT g, repeat('x', 7000) FROM generate_series(1, 40) g;
ANALYZE trust_fat;
DELETE FROM trust_fat;
INSERT INTO trust_fat SELECT g, 'x' FROM generate_series(1, 300000) g;
SELECT pg_stat_force_next_flush();
DO $$
BEGIN
  PERFORM count(*) FROM trust_fat WHERE id = 77;
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  RAISE NOTICE '%', regexp_replace(SQLERRM, 'about \d+ rows', 'about N rows');
END $$;
DROP TABLE trust_fat;

-- a role that may not read the table gets PostgreSQL's "permission
-- denied", not guard's message naming the table and its size, and no
-- incident
CREATE TABLE trust_secret AS SELECT g AS id, 's' || g AS s FROM generate_series(1, 30000) g;
ANALYZE trust_secret;
SET ROLE trust_app;
SELECT count(*) FROM trust_secret WHERE s = 'x';
RESET ROLE;
SELECT count(*) FROM guard.incidents WHERE relation = 'public.trust_secret';
DROP TABLE trust_secret;

-- a DBA's SECURITY DEFINER function run by an application role is the
-- application's statement: the incident is charged to the caller
CREATE FUNCTION trust_definer() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN RETURN (SELECT count(*) FROM trust_big WHERE upper(payload) = 'DEFINER'); END $$;
GRANT EXECUTE ON FUNCTION trust_definer() TO trust_app;
SET ROLE trust_app;
\set VERBOSITY terse
SELECT trust_definer();
\set VERBOSITY default
RESET ROLE;
SELECT role, reason, action FROM guard.incidents WHERE query LIKE '%upper(payload) = $1%';
DROP FUNCTION trust_definer();

-- a statement without source text (a SQL-standard function body) is
-- stored with a placeholder, not an empty text
SET guard.mode = observe;
CREATE FUNCTION trust_atomic(int) RETURNS bigint LANGUAGE sql
BEGIN ATOMIC SELECT count(*) FROM trust_big WHERE c = $1 AND a = 7; END;
SELECT trust_atomic(1);
SELECT query FROM guard.plans WHERE plan LIKE '%trust_big%' AND query NOT LIKE '%SELECT%';
DROP FUNCTION trust_atomic(int);
SET guard.mode = block;

-- 3.5 no enforcement where the extension is not installed: guard observes
CREATE DATABASE trust_noext;
\c trust_noext
SET guard.mode = block;
CREATE TABLE big_elsewhere AS SELECT g AS id FROM generate_series(1, 30000) g;
ANALYZE big_elsewhere;
SELECT count(*) FROM big_elsewhere WHERE id = 5;
\c contrib_regression
SELECT database, reason, relation, action FROM guard.incidents
 WHERE database = 'trust_noext' ORDER BY reason;
DROP DATABASE trust_noext;

SET guard.mode = observe;
DROP FUNCTION trust_par(), trust_imm(int);
DROP TABLE trust_big, trust_grown;
DROP ROLE trust_app;
