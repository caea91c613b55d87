--
-- guard.explain: plans without running or recording; clear errors.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE orders(id int PRIMARY KEY, customer int, total numeric);
INSERT INTO orders SELECT g, g % 1000, g FROM generate_series(1, 30000) g;
ANALYZE orders;
SELECT guard.reset();

-- $n parameters give a generic plan; nothing is recorded or executed
SELECT plan, seqscans, seqscan_rows, verdict, reasons
  FROM guard.explain('SELECT total FROM orders WHERE id = $1');
SELECT plan, seqscans, seqscan_rows, verdict, reasons
  FROM guard.explain('SELECT total FROM orders WHERE customer = $1');
SELECT plan, verdict FROM guard.explain('DELETE FROM orders WHERE customer = 5');
SELECT count(*) AS orders FROM orders;
SELECT count(*) AS recorded FROM guard.plans
 WHERE query LIKE '%customer%' AND query NOT LIKE '%guard.%';

-- small relations, temporary tables and the catalog are never flagged
CREATE TEMP TABLE tmp_big AS SELECT g AS x FROM generate_series(1, 20000) g;
ANALYZE tmp_big;
SELECT plan, verdict FROM guard.explain('SELECT * FROM tmp_big WHERE x = 1');
SELECT verdict FROM guard.explain('SELECT * FROM pg_class WHERE relpages = 1');
SET guard.seqscan_min_rows = 100000;
SELECT verdict FROM guard.explain('SELECT total FROM orders WHERE customer = $1');
RESET guard.seqscan_min_rows;

-- the hashes match what execution records
SELECT query_hash AS eq, plan_hash AS ep FROM guard.explain('SELECT total FROM orders WHERE id = 77') \gset
SELECT total FROM orders WHERE id = 77;
SELECT count(*) AS matches FROM guard.plans WHERE query_hash = :eq AND plan_hash = :ep;

-- bad input
SELECT * FROM guard.explain('SELEC 1');
SELECT * FROM guard.explain('SELECT 1; SELECT 2');
SELECT * FROM guard.explain('');
SELECT * FROM guard.explain('VACUUM orders');
SELECT * FROM guard.explain('SELECT * FROM no_such_table');
SELECT plan, verdict FROM guard.explain('SELECT $1::int + 1');
SELECT * FROM guard.explain(NULL);
