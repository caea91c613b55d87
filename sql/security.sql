--
-- Who may do what: guard's switches are superuser-only, reset is revoked
-- from PUBLIC, other roles' query texts are hidden.
--
CREATE ROLE guard_app LOGIN;
CREATE ROLE guard_reader LOGIN;
GRANT pg_read_all_stats TO guard_reader;
CREATE TABLE secrets(id int PRIMARY KEY, pin text);
GRANT SELECT ON secrets TO guard_app, guard_reader;
SELECT guard.reset();
SELECT pin FROM secrets WHERE id = 1;

SET ROLE guard_app;
-- an application role can neither see through guard.mode nor switch guard off
SHOW guard.mode;
SET guard.mode = off;
SET guard.track = top;
SET guard.seqscan_min_rows = 1000000000;
SET guard.max_plans = 5;
SELECT guard.reset();
-- it sees its own query texts, not the superuser's
SELECT id FROM secrets WHERE id = 2;
SELECT query FROM guard.plans WHERE query LIKE '%secrets%' OR query = '<insufficient privilege>' ORDER BY query;
RESET ROLE;

-- ALTER ROLE ... SET needs a superuser too
SET ROLE guard_app;
ALTER ROLE guard_app SET guard.mode = off;
RESET ROLE;

-- pg_read_all_stats sees every text
SET ROLE guard_reader;
SELECT query FROM guard.plans WHERE query LIKE '%FROM secrets%' ORDER BY query;
RESET ROLE;

-- a role cannot plan through guard.explain what it may not read
REVOKE SELECT ON secrets FROM guard_app;
SET ROLE guard_app;
SELECT verdict FROM guard.explain('SELECT pin FROM secrets WHERE id = 1');
RESET ROLE;

DROP TABLE secrets;
DROP ROLE guard_app;
DROP ROLE guard_reader;
