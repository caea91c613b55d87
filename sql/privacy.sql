--
-- An application role sees neither the texts nor the plan shapes, relation
-- names, clauses or baseline plans of other roles' plans and incidents.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE priv_orders(id int PRIMARY KEY, customer int, note text);
INSERT INTO priv_orders SELECT g, g % 50, 'n' FROM generate_series(1, 20000) g;
ANALYZE priv_orders;
TRUNCATE guard.baseline;
SELECT guard.reset();
CREATE ROLE guard_priv_app;
CREATE ROLE guard_priv_reader;
GRANT pg_read_all_stats TO guard_priv_reader;
GRANT SELECT ON priv_orders TO guard_priv_app;

-- the superuser's statements: an approved index plan, then a regression
-- and a lost pair of parentheses
SELECT note FROM priv_orders WHERE id = 1 AND (customer = 1 OR note = 'x');
SELECT guard.approve(query_hash, plan_hash) FROM guard.plans WHERE query LIKE '%priv_orders%';
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT note FROM priv_orders WHERE id = 1 AND (customer = 1 OR note = 'x');
RESET enable_indexscan; RESET enable_bitmapscan;
SELECT count(*) FROM priv_orders WHERE id = 1 AND customer = 1 OR note = 'x';
SELECT reason, relation IS NOT NULL AS has_relation, clause IS NOT NULL AS has_clause,
       baseline_plan IS NOT NULL AS has_baseline_plan
  FROM guard.incidents ORDER BY incident_id, reason;

-- the application role: its own plan in full, the superuser's masked
SET ROLE guard_priv_app;
SELECT id FROM priv_orders WHERE customer = 3 LIMIT 0;
SELECT query, plan, seqscans, seqscan_rows FROM guard.plans
 WHERE query LIKE '%priv_orders%' OR query = '<insufficient privilege>'
 ORDER BY query, plan;
SELECT reason, query, plan, relation, relation_rows, clause, baseline_plan
  FROM guard.incidents ORDER BY incident_id, reason;
RESET ROLE;

-- pg_read_all_stats sees everything
SET ROLE guard_priv_reader;
SELECT count(*) FROM guard.plans WHERE plan = '<insufficient privilege>' OR seqscans IS NULL;
SELECT count(*) FROM guard.incidents
 WHERE '<insufficient privilege>' IN (query, plan, relation, clause, baseline_plan);
RESET ROLE;

SELECT guard.reset();
TRUNCATE guard.baseline;
DROP TABLE priv_orders;
DROP ROLE guard_priv_app;
DROP ROLE guard_priv_reader;
