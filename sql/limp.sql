--
-- Limp mode in one session: a flagged plan takes a slot instead of failing,
-- gives it back at the end, nests without waiting for itself, and a
-- rejected plan is refused all the same.  Concurrency: test/t/009_limp.pl.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE feed(id bigint PRIMARY KEY, topic int);
INSERT INTO feed SELECT g, g % 10 FROM generate_series(1, 20000) g;
VACUUM ANALYZE feed;
TRUNCATE guard.baseline;
SELECT guard.reset();

SET guard.mode = block;
SET guard.flagged_max_concurrency = 1;
SET guard.flagged_wait_timeout = '100ms';
SELECT count(*) FROM feed WHERE topic = 3;
SELECT reason, action, would_action FROM guard.incidents;
SELECT flagged_running FROM guard.info;

-- a flagged statement inside a flagged statement shares its slot
CREATE FUNCTION topic_count(t int) RETURNS bigint LANGUAGE sql
  AS $$ SELECT count(*) FROM feed WHERE topic + 0 = t $$;
SELECT topic_count(topic) FROM feed WHERE topic = 4 LIMIT 2;
SELECT flagged_running FROM guard.info;

-- an error inside gives the slot back
SELECT count(*) / 0 FROM feed WHERE topic = 5;
SELECT flagged_running FROM guard.info;
-- so does a cursor closed by its transaction's end
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM feed WHERE topic = 6;
FETCH 1 FROM c;
SELECT flagged_running FROM guard.info;
COMMIT;
SELECT flagged_running FROM guard.info;

-- and a cursor whose FETCH failed inside a rolled-back savepoint (its
-- portal never reaches ExecutorEnd) gives it back when the transaction ends
BEGIN;
DECLARE c2 CURSOR FOR SELECT id / (id - 5000) FROM feed WHERE topic = 0;
SAVEPOINT s;
FETCH ALL FROM c2;
ROLLBACK TO s;
SELECT flagged_running FROM guard.info;
COMMIT;
SELECT flagged_running FROM guard.info;

-- rejected plans are refused, never throttled
SELECT guard.reject(query_hash, plan_hash) FROM guard.incidents
 WHERE query LIKE '%topic = $1%' AND reason = 'new_seqscan';
\set VERBOSITY terse
SELECT count(*) FROM feed WHERE topic = 7;
\set VERBOSITY default

-- an application role cannot change the limits
CREATE ROLE guard_app5;
SET ROLE guard_app5;
SET guard.flagged_max_concurrency = 100;
SET guard.flagged_wait_timeout = 0;
RESET ROLE;
DROP ROLE guard_app5;

RESET guard.flagged_max_concurrency;
RESET guard.flagged_wait_timeout;
RESET guard.mode;
DROP FUNCTION topic_count(int);
DROP TABLE feed;
TRUNCATE guard.baseline;
SELECT guard.reset();
