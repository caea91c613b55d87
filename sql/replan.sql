--
-- guard.replan(): the baseline's statements planned again after DDL; each
-- statement's row says whether its plan changed and what guard thinks.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rp_orders(id int PRIMARY KEY, customer int, total numeric);
INSERT INTO rp_orders SELECT g, g % 1000, g FROM generate_series(1, 30000) g;
CREATE INDEX rp_orders_customer ON rp_orders(customer);
CREATE TABLE rp_gone(id int PRIMARY KEY, v int);
INSERT INTO rp_gone SELECT g, g FROM generate_series(1, 100) g;
VACUUM ANALYZE rp_orders;
VACUUM ANALYZE rp_gone;
SELECT guard.reset();
TRUNCATE guard.baseline;
-- the application's role: guard.replan plans a statement as the role that
-- ran it, never as a superuser or the caller
CREATE ROLE rp_runner;
GRANT SELECT, UPDATE ON rp_orders, rp_gone TO rp_runner;

-- warm-up: literal values, a prepared statement, no constant at all
SET ROLE rp_runner;
SELECT count(*) FROM rp_orders WHERE customer = 5;
PREPARE rp_by_id(int) AS SELECT total FROM rp_orders WHERE id = $1;
EXECUTE rp_by_id(7);
SELECT max(id) FROM rp_orders;
SELECT v FROM rp_gone WHERE id = 3;
UPDATE rp_orders SET total = total WHERE id = 1;
SELECT count(*) FROM rp_orders WHERE total > 100;
DEALLOCATE rp_by_id;
RESET ROLE;
SELECT guard.approve_observed('before the upgrade') AS adopted;
-- a statement with only a rejected plan
SELECT guard.reject(query_hash, plan_hash, 'full scan')
  FROM guard.plans WHERE query LIKE '%total > $1%';
-- the capture adopted its own call too: a superuser's statement is not planned
SELECT query, error FROM guard.replan() WHERE query LIKE '%guard.%';
DELETE FROM guard.baseline WHERE query LIKE '%guard.%';

-- nothing changed yet: every plan is still the approved one
SELECT query, status, generic, changed, new_status, verdict, error
  FROM guard.replan() ORDER BY query;

-- the DDL of an upgrade: an index and a table are gone
DROP INDEX rp_orders_customer;
DROP TABLE rp_gone;
SELECT query, status, generic, changed, new_status, seqscans, seqscan_rows,
       verdict, reasons, error
  FROM guard.replan() ORDER BY query;
-- the approved plan shown beside the new one
SELECT query, approved_plan, new_plan FROM guard.replan() WHERE changed;

-- hashes: an unchanged statement's new plan is its approved plan, and the
-- changed plan has the hashes the planner hook records when it runs
SELECT query, approved_plan_hash = new_plan_hash AS same_plan,
       new_plan_hash IN (SELECT plan_hash FROM guard.baseline b
                          WHERE b.query_hash = r.query_hash) AS in_baseline
  FROM guard.replan() r WHERE error IS NULL ORDER BY query;
SET ROLE rp_runner;
SELECT count(*) FROM rp_orders WHERE customer = 5;
RESET ROLE;
SELECT count(*) AS recorded_as_replanned
  FROM guard.replan() r JOIN guard.plans p
       ON p.query_hash = r.query_hash AND p.plan_hash = r.new_plan_hash
 WHERE r.changed AND p.database = current_database();
-- the prepared statement keeps its query_hash; a statement sent with
-- literal values is filed under its own (its constants are now $n)
SELECT query, new_query_hash = query_hash AS same_statement
  FROM guard.replan() WHERE query LIKE '%id = $1%';

-- planning only: the UPDATE did not run
SELECT total FROM rp_orders WHERE id = 1;
SELECT count(*) AS still_one FROM guard.plans WHERE query LIKE 'UPDATE rp_orders%';

-- texts that cannot be planned get a row with the error; the others go on
SELECT guard.approve(42, 43);
INSERT INTO guard.baseline (query_hash, plan_hash, status, query, plan, created_by, fingerprint_rules, query_role)
VALUES (44, 45, 'approved', 'SELECT $1', 'Result', current_user, 2, 'rp_runner'),
       (46, 47, 'approved', 'VACUUM rp_orders', 'Result', current_user, 2, 'rp_runner'),
       (48, 49, 'approved', 'SELECT 1; SELECT 2', 'Result', current_user, 2, 'rp_runner'),
       (50, 51, 'approved', 'SELECT $1 IS NULL', 'Result', current_user, 2, 'rp_runner'),
       (52, 53, 'approved', 'SELECT * FROM rp_orders WHERE id = interval $1', 'Result', current_user, 2, 'rp_runner'),
       (54, 55, 'approved', 'SELECT 54', 'Result', current_user, 2, NULL),
       (56, 57, 'approved', 'SELECT 56', 'Result', current_user, 2, 'rp_nobody');
SELECT query_hash, query, status, changed, error FROM guard.replan()
 WHERE query_hash BETWEEN 42 AND 56 ORDER BY query_hash;
SELECT count(*) AS planned FROM guard.replan() WHERE error IS NULL;
DELETE FROM guard.baseline WHERE query_hash BETWEEN 42 AND 56;

-- an expired rejection is no decision: the statement is left out
UPDATE guard.baseline SET expires_at = now() - interval '1 day'
 WHERE status = 'rejected';
SELECT count(*) AS rejected_rows FROM guard.replan() WHERE status = 'rejected';
UPDATE guard.baseline SET expires_at = NULL WHERE status = 'rejected';

-- the index is back: the plan is the approved one again
CREATE INDEX rp_orders_customer ON rp_orders(customer);
SELECT query, changed, verdict FROM guard.replan()
 WHERE query LIKE '%customer%' ORDER BY query;

-- an application role cannot run it; a DBA role granted it plans with its
-- own privileges: a table it cannot read is an error row, texts masked
CREATE ROLE rp_app;
CREATE ROLE rp_dba;
GRANT USAGE ON SCHEMA guard TO rp_app, rp_dba;
GRANT EXECUTE ON FUNCTION guard.replan() TO rp_dba;
SET ROLE rp_app;
SELECT count(*) FROM guard.replan();
RESET ROLE;
SET ROLE rp_dba;
SELECT query, approved_plan, new_plan, changed, error FROM guard.replan() ORDER BY query;
RESET ROLE;
GRANT SELECT ON rp_orders TO rp_dba;
SET ROLE rp_dba;
SELECT query, changed, verdict, error FROM guard.replan() ORDER BY query;
RESET ROLE;
REVOKE ALL ON rp_orders FROM rp_dba;
REVOKE ALL ON FUNCTION guard.replan() FROM rp_dba;
REVOKE USAGE ON SCHEMA guard FROM rp_app, rp_dba;
DROP ROLE rp_app;
DROP ROLE rp_dba;

-- the planner folds an immutable function with constant arguments: a
-- statement an application role ran is planned as that role, never with
-- the caller's rights (here a superuser's), and under a security-restricted
-- operation
CREATE ROLE rp_owner LOGIN;
CREATE SCHEMA rp AUTHORIZATION rp_owner;
CREATE TABLE rp_log(who name, superuser_rights boolean);
GRANT INSERT ON rp_log TO rp_owner;
GRANT SELECT ON rp_orders TO rp_owner;
SET ROLE rp_owner;
CREATE FUNCTION rp.probe_v() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  INSERT INTO public.rp_log SELECT current_user,
    pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT');
  RETURN 1;
END $$;
CREATE FUNCTION rp.probe() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN rp.probe_v(); END $$;
SELECT count(*) FROM rp_orders WHERE id = rp.probe();
RESET ROLE;
TRUNCATE rp_log;
SELECT guard.approve(query_hash, plan_hash) FROM guard.plans
 WHERE query LIKE '%rp.probe()%' AND database = current_database();
SELECT query_role FROM guard.baseline WHERE query LIKE '%rp.probe()%';
SELECT query, error FROM guard.replan() WHERE query LIKE '%rp.probe%';
-- the function ran once, as rp_owner, without a superuser's rights
SELECT who, superuser_rights FROM rp_log;
DELETE FROM guard.baseline WHERE query LIKE '%rp.probe%';
DROP SCHEMA rp CASCADE;
DROP TABLE rp_log;
REVOKE ALL ON rp_orders FROM rp_owner;
DROP ROLE rp_owner;

-- what a folded function sets is undone; its own SQLSTATE does not end the call
CREATE SCHEMA rp2 AUTHORIZATION rp_runner;
SET ROLE rp_runner;
CREATE FUNCTION rp2.sets() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_catalog.set_config('search_path', 'rp2, pg_catalog', false); RETURN 1; END $$;
CREATE FUNCTION rp2.cancels() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_setting('rp.fail', true) = 'on' THEN
    RAISE EXCEPTION 'fake cancel' USING ERRCODE = 'query_canceled';
  END IF;
  RETURN 1;
END $$;
SELECT count(*) FROM rp_orders WHERE id = rp2.sets();
SELECT count(*) FROM public.rp_orders WHERE id > 0 OR id = rp2.cancels();
RESET ROLE;
-- (running it set this session's search_path, as the function says)
RESET search_path;
SHOW search_path;
SELECT guard.approve(query_hash, plan_hash) FROM guard.plans
 WHERE query LIKE '%rp2.%' AND database = current_database();
SET rp.fail = on;
SELECT query, error FROM guard.replan() WHERE query LIKE '%rp2.%' ORDER BY query;
RESET rp.fail;
SHOW search_path;
DELETE FROM guard.baseline WHERE query LIKE '%rp2.%';
DROP SCHEMA rp2 CASCADE;

REVOKE ALL ON rp_orders FROM rp_runner;
DROP TABLE rp_orders;
DROP ROLE rp_runner;
TRUNCATE guard.baseline;
SELECT guard.reset();
