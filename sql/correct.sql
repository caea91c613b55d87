--
-- guard.correct: a plan_regression is re-planned without the regressed
-- sequential scans, and runs if the result is an approved plan.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE corr_orders(id bigint PRIMARY KEY, customer int, total numeric);
INSERT INTO corr_orders SELECT g, g % 500, g FROM generate_series(1, 40000) g;
CREATE INDEX corr_orders_customer ON corr_orders(customer);
CREATE INDEX corr_orders_total ON corr_orders(total);
VACUUM ANALYZE corr_orders;
TRUNCATE guard.baseline;
SELECT guard.reset();

SELECT total FROM corr_orders WHERE id = 10;
SELECT count(*) FROM corr_orders WHERE customer = 5;
SELECT id FROM corr_orders WHERE total = 5;
PREPARE one(bigint) AS SELECT total FROM corr_orders WHERE id = $1;
EXECUTE one(1);
SELECT guard.approve_observed() AS adopted;
SELECT plan FROM guard.baseline ORDER BY plan;

-- the planner's settings change, the plan regresses to a Seq Scan
SET guard.mode = block;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET enable_indexonlyscan = off;
\set VERBOSITY terse
SELECT total FROM corr_orders WHERE id = 10;
\set VERBOSITY default

-- with guard.correct the approved index plan runs instead
SET guard.correct = on;
SELECT total FROM corr_orders WHERE id = 10;
EXPLAIN (COSTS OFF) SELECT total FROM corr_orders WHERE id = 10;
SELECT reason, relation, action, count > 0 AS counted FROM guard.incidents
 WHERE action = 'corrected';
-- the session's planner settings are untouched
SHOW enable_seqscan;
SHOW enable_indexscan;
-- a prepared statement is corrected whenever it is planned
EXECUTE one(11);
EXECUTE one(12);
DEALLOCATE one;

-- the other statement is corrected to its own approved plan
RESET enable_indexonlyscan;
SELECT count(*) FROM corr_orders WHERE customer = 5;

-- when re-planning finds no approved plan, the mode's action stands: the
-- index the approved plan used is gone, the Seq Scan is the only way
DROP INDEX corr_orders_total;
\set VERBOSITY terse
SELECT id FROM corr_orders WHERE total = 5;
\set VERBOSITY default
SELECT reason, action FROM guard.incidents WHERE query LIKE '%total = $1%';

-- a statement without an approved plan is not corrected either
\set VERBOSITY terse
SELECT count(*) FROM corr_orders WHERE total > 5;
\set VERBOSITY default

-- an application role cannot switch correction on or off
CREATE ROLE guard_app6;
SET ROLE guard_app6;
SET guard.correct = off;
RESET ROLE;
DROP ROLE guard_app6;

RESET guard.correct;
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET guard.mode;
DROP TABLE corr_orders;
TRUNCATE guard.baseline;
SELECT guard.reset();
