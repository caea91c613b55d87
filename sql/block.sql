--
-- Rules and modes: new_seqscan, plan_regression, rejected_plan; observe,
-- warn, block; exemptions; no side effects; prepared and nested statements.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE notifications(id bigint PRIMARY KEY, user_id int, is_read bool,
                           is_mention bool, created_at timestamptz, body text);
INSERT INTO notifications
SELECT g, g % 2000, g % 5 <> 0, g % 50 = 0, '2026-01-01'::timestamptz + g * interval '1 minute', 'n'
  FROM generate_series(1, 50000) g;
CREATE INDEX notifications_user_created ON notifications(user_id, created_at);
VACUUM ANALYZE notifications;
TRUNCATE guard.baseline;
SELECT guard.reset();

-- the good queries run and are adopted in the initial capture
SELECT count(*) FROM (SELECT * FROM notifications WHERE user_id = 42
   AND (is_read = false OR is_mention = true) ORDER BY created_at DESC LIMIT 50) s;
SELECT body FROM notifications WHERE id = 7;
SELECT guard.approve_observed() > 0 AS adopted;

-- observe: the lost-parentheses query runs; guard only records the incident
SET guard.mode = observe;
SELECT count(*) FROM (SELECT * FROM notifications WHERE user_id = 42
   AND is_read = false OR is_mention = true ORDER BY created_at DESC LIMIT 50) s;

-- warn: it runs, with a WARNING naming the relation and its size
SET guard.mode = warn;
\set VERBOSITY terse
SELECT count(*) FROM (SELECT * FROM notifications WHERE user_id = 42
   AND is_read = false OR is_mention = true ORDER BY created_at DESC LIMIT 50) s;

-- block: it fails before executing, with SQLSTATE QG001
SET guard.mode = block;
SELECT count(*) FROM (SELECT * FROM notifications WHERE user_id = 42
   AND is_read = false OR is_mention = true ORDER BY created_at DESC LIMIT 50) s;
\set VERBOSITY default
DO $$
BEGIN
  PERFORM count(*) FROM notifications WHERE user_id = 42 AND is_read = false OR is_mention = true;
EXCEPTION WHEN SQLSTATE 'QG001' THEN
  RAISE NOTICE 'blocked with SQLSTATE QG001 inside a function too';
END $$;
-- while the good query and everything else keep running
SELECT count(*) FROM (SELECT * FROM notifications WHERE user_id = 42
   AND (is_read = false OR is_mention = true) ORDER BY created_at DESC LIMIT 50) s;
SELECT body FROM notifications WHERE id = 7;
-- EXPLAIN without ANALYZE is never blocked
EXPLAIN (COSTS OFF) SELECT * FROM notifications WHERE is_mention;
-- guard.explain says what would happen
SELECT verdict, reasons, seqscans FROM guard.explain(
  'SELECT * FROM notifications WHERE user_id = $1 AND is_read = false OR is_mention = true');

-- a blocked INSERT, UPDATE or DELETE changes nothing
\set VERBOSITY terse
DELETE FROM notifications WHERE is_mention;
UPDATE notifications SET is_read = true WHERE body = 'n';
CREATE TABLE archive AS SELECT * FROM notifications WHERE false;
INSERT INTO archive SELECT * FROM notifications WHERE is_mention;
\set VERBOSITY default
SET guard.mode = observe;
SELECT count(*) AS total, count(*) FILTER (WHERE is_read) AS read FROM notifications;
SELECT count(*) AS archived FROM archive;
SET guard.mode = block;

-- prepared statements are guarded at every execution, until approved
\set VERBOSITY terse
PREPARE mentions AS SELECT count(*) FROM notifications WHERE is_mention;
EXECUTE mentions;
EXECUTE mentions;
\set VERBOSITY default
SELECT guard.approve(query_hash, plan_hash, 'the mentions report')
  FROM guard.plans WHERE query LIKE 'SELECT count(*) FROM notifications WHERE is_mention%';
EXECUTE mentions;
DEALLOCATE mentions;

-- plan_regression: the approved plan used the index; a seq scan regresses
SET enable_indexscan = off; SET enable_bitmapscan = off;
\set VERBOSITY terse
SELECT body FROM notifications WHERE id = 7;
\set VERBOSITY default
SELECT verdict, reasons FROM guard.explain('SELECT body FROM notifications WHERE id = 7');
RESET enable_indexscan; RESET enable_bitmapscan;

-- rejected_plan: even an index plan, once rejected, is blocked
SELECT guard.reject(query_hash, plan_hash, 'not this one')
  FROM guard.plans WHERE query = 'SELECT body FROM notifications WHERE id = $1'
   AND plan LIKE 'Index Scan%';
\set VERBOSITY terse
SELECT body FROM notifications WHERE id = 7;
\set VERBOSITY default
SELECT verdict, reasons FROM guard.explain('SELECT body FROM notifications WHERE id = 7');

-- exemptions: the allow-list, the threshold, temporary tables, the catalog
SET guard.allow_seqscan = 'public.notifications';
SELECT count(*) FROM notifications WHERE body = 'x';
SET guard.allow_seqscan = 'other, notifications';
SELECT count(*) FROM notifications WHERE body = 'y';
RESET guard.allow_seqscan;
SET guard.allow_seqscan = 'a,,b';
SET guard.seqscan_min_rows = 100000;
SELECT count(*) FROM notifications WHERE body = 'z';
RESET guard.seqscan_min_rows;
CREATE TEMP TABLE scratch AS SELECT g FROM generate_series(1, 20000) g;
ANALYZE scratch;
SELECT count(*) FROM scratch WHERE g = 5;
SELECT count(*) >= 0 AS ran FROM pg_attribute WHERE attname = 'x';

-- an application role can neither switch blocking off nor allow a scan
CREATE ROLE guard_app3;
GRANT SELECT ON notifications TO guard_app3;
SET ROLE guard_app3;
SET guard.mode = observe;
SET guard.allow_seqscan = 'notifications';
\set VERBOSITY terse
SELECT count(*) FROM notifications WHERE body = 'w';
\set VERBOSITY default
RESET ROLE;
DROP OWNED BY guard_app3;
DROP ROLE guard_app3;
RESET guard.mode;
TRUNCATE guard.baseline;
