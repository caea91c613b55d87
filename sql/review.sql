--
-- Review (0.4): what guard stores for a statement, approve_observed after a
-- warm-up, rejections that expire, forget, decisions on plans guard no
-- longer holds, and a baseline read in parallel mode.
--
SET max_parallel_workers_per_gather = 0;
SELECT guard.reset();
TRUNCATE guard.baseline;
CREATE TABLE rv_big(id int PRIMARY KEY, owner int, body text);
INSERT INTO rv_big SELECT g, g % 100, 'b' FROM generate_series(1, 20000) g;
VACUUM ANALYZE rv_big;

-- the stored text is the statement, not the EXPLAIN or PREPARE command
-- that first planned it
EXPLAIN (COSTS OFF) SELECT body FROM rv_big WHERE id = 5;
SELECT body FROM rv_big WHERE id = 6;
/* a comment */ EXPLAIN ( "costs" off, SUMMARY off ) SELECT body FROM rv_big WHERE id = 7;
PREPARE rv_p(int) AS SELECT owner FROM rv_big WHERE id = $1;
EXECUTE rv_p(1);
PREPARE "rv p2" (numeric(10, 2), int[]) AS SELECT owner FROM rv_big WHERE id = $1 AND id = ANY($2);
EXECUTE "rv p2"(1, '{1}');
\o /dev/null
EXPLAIN ANALYZE VERBOSE SELECT owner FROM rv_big WHERE id > 19999 AND (SELECT true);
\o
EXPLAIN (COSTS OFF) (SELECT owner FROM rv_big WHERE id < 2);
SELECT query, calls FROM guard.plans WHERE query LIKE '%FROM rv_big%' ORDER BY query;
SELECT count(*) AS not_the_statement FROM guard.plans
 WHERE query ~* '^\s*(/\*|EXPLAIN|PREPARE)';
DEALLOCATE rv_p;
DEALLOCATE "rv p2";

-- the initial capture after a warm-up in observe mode: a report that reads
-- the big table sequentially (flagged: an incident), and a plan only
-- EXPLAINed while its table was empty
SELECT guard.reset();
CREATE TABLE rv_grow(id int, v int);
ANALYZE rv_grow;
SELECT owner, count(*) FROM rv_big GROUP BY owner ORDER BY owner LIMIT 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM rv_grow WHERE v = 1;
INSERT INTO rv_grow SELECT g, g FROM generate_series(1, 20000) g;
ANALYZE rv_grow;
SELECT reason, relation, resolved FROM guard.incidents WHERE query LIKE '%FROM rv_big GROUP BY%';
-- the strict capture (0.3's) leaves the report out
SELECT guard.approve_observed('strict', skip_flagged => true) > 0 AS adopted;
SELECT status FROM guard.plans WHERE query LIKE '%FROM rv_big GROUP BY%';
-- the documented one adopts it, says so, and resolves its incident
SELECT guard.approve_observed('rollout') > 0 AS adopted;
SELECT query, status FROM guard.plans
 WHERE query LIKE '%FROM rv_big GROUP BY%' OR query LIKE '%FROM rv_grow%' ORDER BY query;
SELECT query, plan FROM guard.baseline WHERE note = 'rollout' AND plan LIKE '%Seq Scan%';
SELECT reason, resolved FROM guard.incidents WHERE query LIKE '%FROM rv_big GROUP BY%';
SELECT guard.approve_observed('again') > 0 AS adopted_again;
SELECT guard.approve_observed(NULL, NULL);
-- block mode: the report runs; the plan that was only EXPLAINed (its table
-- has grown since) is judged as new
SET guard.mode = block;
SELECT owner, count(*) FROM rv_big GROUP BY owner ORDER BY owner LIMIT 2;
\set VERBOSITY terse
SELECT count(*) FROM rv_grow WHERE v = 1;
\set VERBOSITY default
RESET guard.mode;

-- rejections that expire; forgetting a decision
SELECT body FROM rv_big WHERE id = 1;
SELECT query_hash AS qh, plan_hash AS ph FROM guard.plans
 WHERE query = 'SELECT body FROM rv_big WHERE id = $1' \gset
\set VERBOSITY terse
SELECT guard.reject(:qh, :ph, 'until the index exists', pg_catalog.now() - interval '1 second');
\set VERBOSITY default
SELECT guard.reject(:qh, :ph, 'for a second', pg_catalog.clock_timestamp() + interval '1 second');
SELECT status, note, expires_at IS NOT NULL AS expires FROM guard.baseline
 WHERE query_hash = :qh AND plan_hash = :ph;
SET guard.mode = block;
PREPARE rv_lookup AS SELECT body FROM rv_big WHERE id = 2;
\set VERBOSITY terse
EXECUTE rv_lookup;
SELECT body FROM rv_big WHERE id = 3;
\set VERBOSITY default
SELECT pg_sleep(1.2);
-- expired: the plan is judged as undecided, the prepared statement too
SELECT status FROM guard.plans WHERE query_hash = :qh AND plan_hash = :ph;
SELECT body FROM rv_big WHERE id = 3;
EXECUTE rv_lookup;
RESET guard.mode;
DEALLOCATE rv_lookup;

-- approved, then forgotten: blocked again, also the prepared statement
SELECT query_hash AS qh, plan_hash AS ph FROM guard.plans
 WHERE query = 'SELECT owner, count(*) FROM rv_big GROUP BY owner ORDER BY owner LIMIT $1' \gset
SET guard.mode = block;
PREPARE rv_report AS SELECT owner, count(*) FROM rv_big GROUP BY owner ORDER BY owner LIMIT 1;
EXECUTE rv_report;
SELECT guard.forget(:qh, :ph) AS forgotten;
SELECT guard.forget(:qh, :ph) AS forgotten_twice;
\set VERBOSITY terse
EXECUTE rv_report;
\set VERBOSITY default
RESET guard.mode;
DEALLOCATE rv_report;
SELECT count(*) FROM guard.baseline WHERE query_hash = :qh AND plan_hash = :ph;
SELECT guard.forget(NULL, 1);
-- a rejection without until never expires
SELECT guard.reject(:qh, :ph);
SELECT status, expires_at FROM guard.baseline WHERE query_hash = :qh AND plan_hash = :ph;
SELECT guard.forget(:qh, :ph);

-- a plan guard holds nowhere: approved, with a warning that its shape is
-- unknown
SELECT guard.approve(4242, 4343);
SELECT query IS NULL AS no_text FROM guard.baseline WHERE query_hash = 4242;
-- a rejection needs no shape: no warning
SELECT guard.reject(4242, 4344);

-- privileges: forget is the DBA's, like approve and reject
CREATE ROLE rv_app;
SET ROLE rv_app;
SELECT guard.forget(1, 2);
SELECT guard.reject(1, 2, 'x', NULL);
SELECT guard.approve_observed('x', true);
RESET ROLE;
DROP ROLE rv_app;

-- a function running in parallel mode reads the baseline too: a new
-- session whose first judgment happens under a Gather (the outer statement
-- is not judged: guard.mode is off until the function sets it)
SELECT count(*) FROM rv_big WHERE owner >= 0;
SELECT guard.approve(query_hash, plan_hash, 'counted in parallel mode')
  FROM guard.plans WHERE query = 'SELECT count(*) FROM rv_big WHERE owner >= $1';
CREATE FUNCTION rv_count(int) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE SET guard.mode = block AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM rv_big WHERE owner >= 0' INTO n;
	RETURN n;
END $$;
\c
SET guard.mode = off;
SET max_parallel_workers_per_gather = 2;
SET max_parallel_workers = 0;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT rv_count(id) FROM rv_grow WHERE v = 1;
SELECT rv_count(id) FROM rv_grow WHERE v = 1;
\c
DROP FUNCTION rv_count(int);
DROP TABLE rv_grow, rv_big;
TRUNCATE guard.baseline;
