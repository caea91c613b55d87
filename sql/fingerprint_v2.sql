--
-- Fingerprint rules 2 (make installcheck-rules2: an instance started with
-- guard.fingerprint_rules = 2).  Every property sql/fingerprint.sql proves
-- must hold unchanged: the same file runs here, with the same output.
--
CREATE EXTENSION guard;
SHOW guard.fingerprint_rules;
-- superuser-only and fixed at server start
SET guard.fingerprint_rules = 1;
-- a pinned pair under rules 2, compared, not printed: rules 2 hashes are
-- the same on every supported major, so this holds on 15 and on 18
CREATE TABLE canary(id int PRIMARY KEY, v text);
SELECT query_hash = 6386423282639266995 AS canary_query,
       plan_hash = -5423417323513960482 AS canary_plan
  FROM guard.explain('SELECT v FROM canary WHERE id = 1');
DROP TABLE canary;
-- pg_regress runs psql from the source directory
\i sql/fingerprint.sql
