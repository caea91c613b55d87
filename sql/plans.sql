--
-- The store of observed plans: guard.plans, calls, texts, nesting, reset.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE accounts(id int PRIMARY KEY, owner text, balance int);
INSERT INTO accounts SELECT g, 'o' || (g % 100), g FROM generate_series(1, 20000) g;
VACUUM ANALYZE accounts;
SELECT guard.reset();

-- one statement, three constants: one plan, three calls, normalized text
SELECT balance FROM accounts WHERE id = 1;
SELECT balance FROM accounts WHERE id = 2;
select BALANCE from accounts where ID = 3 ;
SELECT query, plan, seqscans, calls FROM guard.plans
 WHERE query ILIKE '%from accounts%' ORDER BY query;

-- a large sequential scan: relation and its size at plan time
SELECT count(*) FROM accounts WHERE owner = 'o7';
SELECT query, plan, seqscans, seqscan_rows, calls FROM guard.plans
 WHERE query LIKE '%owner = %';

-- normalization keeps what is not a constant (ORDER BY 1, typmods)
SELECT owner::varchar(10) FROM accounts WHERE id = -5 ORDER BY 1 LIMIT 3;
SELECT query FROM guard.plans WHERE query LIKE '%varchar%';

-- prepared statements: custom and generic plans of one statement share
-- its query_hash; the cached generic plan is counted on every execution
SET plan_cache_mode = force_custom_plan;
PREPARE byid(int) AS SELECT owner FROM accounts WHERE id = $1;
EXECUTE byid(10);
EXECUTE byid(11);
SET plan_cache_mode = force_generic_plan;
EXECUTE byid(12);
EXECUTE byid(13);
EXECUTE byid(14);
RESET plan_cache_mode;
SELECT query, calls, generic_calls, custom_calls FROM guard.plans
 WHERE query LIKE 'SELECT owner FROM accounts WHERE id = $1%';
SELECT count(DISTINCT query_hash) AS statements FROM guard.plans
 WHERE query LIKE 'SELECT owner FROM accounts WHERE id = $1%';
DEALLOCATE byid;

-- EXPLAIN without ANALYZE is not an execution; EXPLAIN ANALYZE is
SELECT guard.reset();
EXPLAIN (COSTS OFF) SELECT owner FROM accounts WHERE id = 99;
SELECT query, calls FROM guard.plans WHERE query LIKE '%id = $1%';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) SELECT owner FROM accounts WHERE id = 99;
SELECT query, calls FROM guard.plans WHERE query LIKE '%id = $1%';

-- utility statements are not fingerprinted
SELECT guard.reset();
CREATE TABLE scratch(x int);
VACUUM scratch;
SELECT count(*) AS plans FROM guard.plans WHERE query NOT LIKE '%guard.plans%';

-- nested statements: recorded with guard.track = all, not with top
CREATE FUNCTION owner_of(int) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RETURN (SELECT owner FROM accounts WHERE id = $1); END $$;
SELECT guard.reset();
SELECT owner_of(5);
SELECT owner_of(6);
SELECT query, calls FROM guard.plans WHERE query NOT LIKE '%guard.plans%' ORDER BY query;
SET guard.track = top;
SELECT guard.reset();
SELECT owner_of(5);
DO $$ BEGIN PERFORM owner FROM accounts WHERE id = 8; END $$;
SELECT query, calls FROM guard.plans WHERE query NOT LIKE '%guard.plans%' ORDER BY query;
RESET guard.track;

-- guard.mode = off: nothing is fingerprinted or recorded
SET guard.mode = off;
SELECT guard.reset();
SELECT owner FROM accounts WHERE id = 5;
RESET guard.mode;
SELECT count(*) AS plans FROM guard.plans WHERE query NOT LIKE '%guard.plans%';

-- guard.info and reset
SELECT plans > 0 AS has_plans, max_plans, evictions, dropped_texts FROM guard.info;
SELECT guard.reset();
SELECT plans, evictions FROM guard.info;
