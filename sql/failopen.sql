--
-- guard fails open: an internal error becomes a WARNING and the statement
-- runs; an error raised while holding the store's lock leaves no lock
-- behind (the next statements would hang on it).
--
CREATE TABLE fo(id int PRIMARY KEY, v int);
INSERT INTO fo SELECT g, g FROM generate_series(1, 100) g;
SELECT guard.reset();
SET guard.debug_fault = fingerprint;
SELECT v FROM fo WHERE id = 1;
INSERT INTO fo VALUES (101, 101);
SET guard.debug_fault = store;
SELECT v FROM fo WHERE id = 2;
SELECT v FROM fo WHERE id = 3 AND v > 0;
RESET guard.debug_fault;
-- the store still works: the lock was released
SELECT v FROM fo WHERE id = 4;
SELECT count(*) FROM fo;
SELECT query, calls FROM guard.plans WHERE query LIKE '%fo%' AND query NOT LIKE '%guard%' ORDER BY query;
-- an application role cannot inject faults
CREATE ROLE guard_fo_app;
SET ROLE guard_fo_app;
SET guard.debug_fault = store;
RESET ROLE;
DROP ROLE guard_fo_app;

-- after a failure under the store lock, interrupts still work: the
-- interrupt holdoff count did not wrap (a statement_timeout cancels)
SET guard.debug_fault = store;
SELECT v FROM fo WHERE id = 5 AND v < 1000;
RESET guard.debug_fault;
SET statement_timeout = '200ms';
SELECT pg_sleep(5);
RESET statement_timeout;

-- a schema "guard" with a view named baseline, in a database without the
-- extension, is not guard's baseline: ignored, nothing breaks
SELECT current_database() AS orig_db \gset
CREATE DATABASE guard_fake;
\c guard_fake
CREATE SCHEMA guard;
CREATE VIEW guard.baseline AS
  SELECT 1::int8 AS query_hash, 2::int8 AS plan_hash, 'approved'::text AS status,
         'q'::text AS query, 'Seq Scan on public.x'::text AS plan;
CREATE TABLE x(a int);
SELECT count(*) FROM x;
SELECT 1 AS still_alive;
\c :orig_db
DROP DATABASE guard_fake;

-- an error in the middle of reading guard.baseline (inside the planner):
-- rolled back in a subtransaction, a WARNING, the statement runs, the
-- previous copy of the baseline stays in use; then it reads again
CREATE TABLE fo_big(id int PRIMARY KEY, v int);
INSERT INTO fo_big SELECT g, g FROM generate_series(1, 20000) g;
ANALYZE fo_big;
SELECT guard.approve(1, 2, 'one decision, so the table has a row to read');
SET guard.debug_fault = baseline;
SELECT count(*) FROM fo_big WHERE v > 0;
SELECT count(*) FROM fo_big WHERE v > 1;
RESET guard.debug_fault;
SET guard.mode = block;
\set VERBOSITY terse
SELECT count(*) FROM fo_big WHERE v > 2;
\set VERBOSITY default
SELECT guard.approve(query_hash, plan_hash)
  FROM guard.plans WHERE query = 'SELECT count(*) FROM fo_big WHERE v > $1';
SELECT count(*) FROM fo_big WHERE v > 3;
RESET guard.mode;
DELETE FROM guard.baseline;
