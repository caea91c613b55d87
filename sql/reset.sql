--
-- guard.reset(userid, dbid, query_hash): scoped like
-- pg_stat_statements_reset; resetting one database or role never wipes
-- another's plans or incidents.  Extension 0.3's definitions keep working
-- with the new library.
--
\set origdb :DBNAME
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rs_t(id int PRIMARY KEY, v int);
INSERT INTO rs_t SELECT g, g FROM generate_series(1, 20000) g;
ANALYZE rs_t;
SELECT guard.reset();
CREATE ROLE guard_rs_app;
GRANT SELECT ON rs_t TO guard_rs_app;
CREATE DATABASE guard_rs_other;

SELECT count(*) FROM rs_t WHERE v = 1;
SELECT v FROM rs_t WHERE id = 1;
SET ROLE guard_rs_app;
SELECT count(*) FROM rs_t WHERE v = 2 OR v = 3;
RESET ROLE;
\c guard_rs_other
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rs_t(id int PRIMARY KEY, v int);
INSERT INTO rs_t SELECT g, g FROM generate_series(1, 20000) g;
ANALYZE rs_t;
SELECT count(*) FROM rs_t WHERE v = 1;
\c :origdb
SET max_parallel_workers_per_gather = 0;
SELECT database, count(*) FROM guard.plans WHERE query LIKE '%rs_t%' GROUP BY 1 ORDER BY 1;
SELECT database, count(*) FROM guard.incidents WHERE query LIKE '%rs_t%' GROUP BY 1 ORDER BY 1;

-- one database: the other keeps its plans and review history
SELECT guard.reset(dbid => (SELECT oid FROM pg_database WHERE datname = 'guard_rs_other'));
SELECT database, count(*) FROM guard.plans WHERE query LIKE '%rs_t%' GROUP BY 1 ORDER BY 1;
SELECT database, count(*) FROM guard.incidents WHERE query LIKE '%rs_t%' GROUP BY 1 ORDER BY 1;

-- one role
SELECT guard.reset(userid => 'guard_rs_app'::regrole);
SELECT count(*) FROM guard.plans WHERE query LIKE '%v = $1 OR%';
SELECT count(*) FROM guard.incidents WHERE query LIKE '%v = $1 OR%';
SELECT count(*) FROM guard.plans WHERE query LIKE '%rs_t%';

-- one statement
SELECT guard.reset(0, 0, (SELECT query_hash FROM guard.plans WHERE query LIKE '%WHERE id = $1'));
SELECT query FROM guard.plans WHERE query LIKE '%rs_t%';
SELECT query FROM guard.incidents WHERE query LIKE '%rs_t%';

-- still revoked from PUBLIC; NULL resets nothing (STRICT)
SET ROLE guard_rs_app;
SELECT guard.reset();
SELECT guard.reset(0, 0, 0);
RESET ROLE;
SELECT guard.reset(NULL, 0, 0);
SELECT count(*) > 0 AS kept FROM guard.plans WHERE query LIKE '%rs_t%';

-- no argument: everything
SELECT guard.reset();
SELECT count(*) FROM guard.plans WHERE query LIKE '%rs_t%';
SELECT incidents, incident_evictions, incidents_dropped, incident_alerts_suppressed FROM guard.info;

-- extension 0.3's SQL definitions with this library
\c guard_rs_other
SET max_parallel_workers_per_gather = 0;
SELECT count(*) FROM rs_t WHERE v = 4;
CREATE EXTENSION guard VERSION '0.3';
SELECT plans >= 0 AS ok, incidents, max_incidents FROM guard.info;
SELECT reason, relation, action, plan IS NOT NULL AS has_plan FROM guard.incidents;
SELECT guard.reset();
ALTER EXTENSION guard UPDATE TO '0.4';
SELECT incidents_dropped, incident_alerts_suppressed FROM guard.info;
\c :origdb
DROP DATABASE guard_rs_other;
DROP TABLE rs_t;
DROP ROLE guard_rs_app;
