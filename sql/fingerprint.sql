--
-- Properties of query_hash and plan_hash (doc/fingerprint.md).
-- Hashes are compared, never printed: the output says which pairs match.
--
SET max_parallel_workers_per_gather = 0;
CREATE TABLE users(id int PRIMARY KEY, name text, team int);
CREATE TABLE notes(id int PRIMARY KEY, user_id int, body text, flag bool);
CREATE INDEX notes_user ON notes(user_id);
CREATE INDEX notes_user_flag ON notes(user_id, flag);
INSERT INTO users SELECT g, 'u' || g, g % 50 FROM generate_series(1, 5000) g;
INSERT INTO notes SELECT g, g % 5000, 'n', g % 3 = 0 FROM generate_series(1, 50000) g;
VACUUM ANALYZE users, notes;

-- constants, whitespace, comments and letter case
SELECT query_hash AS q1, plan_hash AS p1 FROM guard.explain('SELECT body FROM notes WHERE user_id = 42') \gset
SELECT query_hash AS q2, plan_hash AS p2 FROM guard.explain(E'select   BODY\n from NOTES -- why\n where user_id=7 /* c */') \gset
SELECT :q1 = :q2 AS same_query, :p1 = :p2 AS same_plan;

-- a different statement is a different query_hash
SELECT query_hash AS q3 FROM guard.explain('SELECT body FROM notes WHERE id = 42') \gset
SELECT :q1 = :q3 AS same_query;

-- columns count by name: a schema-qualified and an aliased spelling agree
SELECT query_hash AS q4 FROM guard.explain('SELECT n.body FROM public.notes n WHERE n.user_id = 1') \gset
SELECT :q1 = :q4 AS same_query;

-- cost and row estimates do not count: grow the table, same plan shape
SELECT plan AS plan_before FROM guard.explain('SELECT body FROM notes WHERE user_id = 42');
INSERT INTO notes SELECT g, g % 5000, 'n', false FROM generate_series(50001, 60000) g;
ANALYZE notes;
SELECT plan_hash AS p5, plan FROM guard.explain('SELECT body FROM notes WHERE user_id = 42') \gset
SELECT :p1 = :p5 AS same_plan;

-- Index Scan -> Seq Scan changes plan_hash
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT plan FROM guard.explain('SELECT body FROM notes WHERE user_id = 42');
SELECT plan_hash AS p6 FROM guard.explain('SELECT body FROM notes WHERE user_id = 42') \gset
RESET enable_indexscan; RESET enable_bitmapscan;
SELECT :p1 = :p6 AS same_plan;

-- Bitmap scan vs plain index scan
SELECT plan FROM guard.explain('SELECT body FROM notes WHERE id = 42');
SELECT plan_hash AS p7a FROM guard.explain('SELECT body FROM notes WHERE id = 42') \gset
SET enable_indexscan = off;
SELECT plan FROM guard.explain('SELECT body FROM notes WHERE id = 42');
SELECT plan_hash AS p7 FROM guard.explain('SELECT body FROM notes WHERE id = 42') \gset
RESET enable_indexscan;
SELECT :p7a = :p7 AS same_plan;

-- a different index
SELECT plan FROM guard.explain('SELECT body FROM notes WHERE user_id = 42 AND flag');
SELECT plan_hash AS p8 FROM guard.explain('SELECT body FROM notes WHERE user_id = 42 AND flag') \gset
DROP INDEX notes_user_flag;
SELECT plan FROM guard.explain('SELECT body FROM notes WHERE user_id = 42 AND flag');
SELECT plan_hash AS p9 FROM guard.explain('SELECT body FROM notes WHERE user_id = 42 AND flag') \gset
SELECT :p8 = :p9 AS same_plan;

-- Index Only Scan vs Index Scan
VACUUM notes;
SELECT plan FROM guard.explain('SELECT user_id FROM notes WHERE user_id = 42');
SELECT plan_hash AS p10 FROM guard.explain('SELECT user_id FROM notes WHERE user_id = 42') \gset
SET enable_indexonlyscan = off;
SELECT plan_hash AS p11 FROM guard.explain('SELECT user_id FROM notes WHERE user_id = 42') \gset
RESET enable_indexonlyscan;
SELECT :p10 = :p11 AS same_plan;

-- scan direction
SELECT plan FROM guard.explain('SELECT id FROM notes ORDER BY id DESC LIMIT 1');
SELECT plan_hash AS p12 FROM guard.explain('SELECT id FROM notes ORDER BY id DESC LIMIT 1') \gset
SELECT plan_hash AS p13 FROM guard.explain('SELECT id FROM notes ORDER BY id ASC LIMIT 1') \gset
SELECT :p12 = :p13 AS same_plan;

-- join method
SELECT plan FROM guard.explain('SELECT count(*) FROM users u JOIN notes n ON n.user_id = u.id');
SELECT plan_hash AS j1 FROM guard.explain('SELECT count(*) FROM users u JOIN notes n ON n.user_id = u.id') \gset
SET enable_hashjoin = off;
SELECT plan FROM guard.explain('SELECT count(*) FROM users u JOIN notes n ON n.user_id = u.id');
SELECT plan_hash AS j2 FROM guard.explain('SELECT count(*) FROM users u JOIN notes n ON n.user_id = u.id') \gset
RESET enable_hashjoin;
SELECT :j1 = :j2 AS same_plan;
-- range-table order does not count when the plan is the same
SELECT plan_hash AS j3 FROM guard.explain('SELECT count(*) FROM notes n, users u WHERE n.user_id = u.id') \gset
SELECT :j1 = :j3 AS same_plan;
-- join order does
CREATE TABLE teams(id int PRIMARY KEY, label text);
INSERT INTO teams SELECT g, 't' || g FROM generate_series(0, 49) g;
ANALYZE teams;
SET join_collapse_limit = 1;
SELECT plan FROM guard.explain('SELECT count(*) FROM users u JOIN notes n ON n.user_id = u.id JOIN teams t ON t.id = u.team');
SELECT plan FROM guard.explain('SELECT count(*) FROM users u JOIN teams t ON t.id = u.team JOIN notes n ON n.user_id = u.id');
SELECT plan_hash AS j4 FROM guard.explain('SELECT count(*) FROM users u JOIN notes n ON n.user_id = u.id JOIN teams t ON t.id = u.team') \gset
SELECT plan_hash AS j5 FROM guard.explain('SELECT count(*) FROM users u JOIN teams t ON t.id = u.team JOIN notes n ON n.user_id = u.id') \gset
RESET join_collapse_limit;
SELECT :j4 = :j5 AS same_plan;

-- planned worker counts do not count; going parallel does
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0; SET enable_indexscan = off; SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 2;
SELECT plan FROM guard.explain('SELECT count(*) FROM notes WHERE flag');
SELECT plan_hash AS w2 FROM guard.explain('SELECT count(*) FROM notes WHERE flag') \gset
SET max_parallel_workers_per_gather = 4;
SELECT plan_hash AS w4 FROM guard.explain('SELECT count(*) FROM notes WHERE flag') \gset
SET max_parallel_workers_per_gather = 0;
SELECT plan_hash AS w0 FROM guard.explain('SELECT count(*) FROM notes WHERE flag') \gset
SELECT :w2 = :w4 AS same_plan_2_4_workers, :w2 = :w0 AS same_plan_serial;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET enable_indexscan; RESET enable_bitmapscan;

-- partitions: which of one parent's partitions were kept does not count
CREATE TABLE events(k int, v int) PARTITION BY LIST (k);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
CREATE TABLE events_2 PARTITION OF events FOR VALUES IN (2);
CREATE TABLE events_3 PARTITION OF events FOR VALUES IN (3);
INSERT INTO events SELECT 1 + g % 3, g FROM generate_series(1, 3000) g;
ANALYZE events;
SELECT plan FROM guard.explain('SELECT v FROM events WHERE k = ANY(''{1,2}'')');
SELECT query_hash AS e1q, plan_hash AS e1p FROM guard.explain('SELECT v FROM events WHERE k = ANY(''{1,2}'')') \gset
SELECT query_hash AS e2q, plan_hash AS e2p FROM guard.explain('SELECT v FROM events WHERE k = ANY(''{1,2,3}'')') \gset
SELECT :e1q = :e2q AS same_query, :e1p = :e2p AS same_plan;
-- an index on every partition: scanned through it, the plan changes
CREATE INDEX ON events(v);
SET enable_seqscan = off;
SELECT plan FROM guard.explain('SELECT v FROM events WHERE k = ANY(''{1,2}'') AND v = 5');
SELECT plan_hash AS e3p FROM guard.explain('SELECT v FROM events WHERE k = ANY(''{1,2}'') AND v = 5') \gset
SELECT plan_hash AS e4p FROM guard.explain('SELECT v FROM events WHERE k = ANY(''{1,2,3}'') AND v = 5') \gset
RESET enable_seqscan;
SELECT :e3p = :e4p AS same_plan, :e1p = :e3p AS same_as_seqscan;

-- DML: the operation and the target count
CREATE TABLE archive1(id int, body text);
CREATE TABLE archive2(id int, body text);
SELECT plan FROM guard.explain('INSERT INTO archive1 SELECT id, body FROM notes WHERE user_id = 1');
SELECT plan_hash AS d1 FROM guard.explain('INSERT INTO archive1 SELECT id, body FROM notes WHERE user_id = 1') \gset
SELECT plan_hash AS d2 FROM guard.explain('INSERT INTO archive2 SELECT id, body FROM notes WHERE user_id = 1') \gset
SELECT plan FROM guard.explain('DELETE FROM archive1 WHERE id = 1');
SELECT plan_hash AS d3 FROM guard.explain('DELETE FROM archive1 WHERE id = 1') \gset
SELECT plan_hash AS d4 FROM guard.explain('UPDATE archive1 SET body = body WHERE id = 1') \gset
SELECT :d1 = :d2 AS same_target, :d3 = :d4 AS same_operation;

-- subplans are part of the plan
SELECT plan FROM guard.explain('SELECT name FROM users u WHERE EXISTS (SELECT 1 FROM notes n WHERE n.user_id = u.id AND n.flag) OR team = 1');

-- OIDs do not count: drop and recreate everything, same hashes
SELECT query_hash AS r1q, plan_hash AS r1p FROM guard.explain('SELECT u.name FROM users u JOIN notes n ON n.user_id = u.id WHERE u.team = 3') \gset
CREATE TABLE users2 AS SELECT * FROM users;
CREATE TABLE notes2 AS SELECT * FROM notes;
DROP TABLE users, notes CASCADE;
ALTER TABLE notes2 RENAME TO notes;
ALTER TABLE users2 RENAME TO users;
ALTER TABLE users ADD PRIMARY KEY (id);
ALTER TABLE notes ADD PRIMARY KEY (id);
CREATE INDEX notes_user ON notes(user_id);
VACUUM ANALYZE users, notes;
SELECT query_hash AS r2q, plan_hash AS r2p FROM guard.explain('SELECT u.name FROM users u JOIN notes n ON n.user_id = u.id WHERE u.team = 3') \gset
SELECT :r1q = :r2q AS same_query, :r1p = :r2p AS same_plan;

-- columns by name: a dropped column shifts attnums, not the hash
CREATE TABLE shifted(gone int, id int, val text);
ALTER TABLE shifted DROP COLUMN gone;
CREATE TABLE unshifted(id int, val text);
SELECT query_hash AS s1 FROM guard.explain('SELECT val FROM shifted WHERE id = 1') \gset
DROP TABLE shifted;
ALTER TABLE unshifted RENAME TO shifted;
SELECT query_hash AS s2 FROM guard.explain('SELECT val FROM shifted WHERE id = 1') \gset
SELECT :s1 = :s2 AS same_query;
-- ... also for the target columns of INSERT and UPDATE
CREATE TABLE dml_t(gone int, id int, val text);
ALTER TABLE dml_t DROP COLUMN gone;
SELECT query_hash AS u1 FROM guard.explain('UPDATE dml_t SET val = ''x'' WHERE id = 1') \gset
SELECT query_hash AS i1 FROM guard.explain('INSERT INTO dml_t(val, id) VALUES (''x'', 1)') \gset
DROP TABLE dml_t;
CREATE TABLE dml_t(id int, val text);
SELECT query_hash AS u2 FROM guard.explain('UPDATE dml_t SET val = ''x'' WHERE id = 1') \gset
SELECT query_hash AS i2 FROM guard.explain('INSERT INTO dml_t(val, id) VALUES (''x'', 1)') \gset
SELECT :u1 = :u2 AS same_update, :i1 = :i2 AS same_insert;
-- and the target column does count
SELECT query_hash AS u3 FROM guard.explain('UPDATE dml_t SET val = ''x'' WHERE val = ''1''') \gset
SELECT query_hash AS u4 FROM guard.explain('UPDATE dml_t SET id = 1 WHERE val = ''1''') \gset
SELECT :u3 = :u4 AS same_target_column;

-- renaming a table changes the hashes (names are the identity)
SELECT query_hash AS n1q, plan_hash AS n1p FROM guard.explain('SELECT val FROM shifted WHERE id = 1') \gset
ALTER TABLE shifted RENAME TO shifted_renamed;
SELECT query_hash AS n2q, plan_hash AS n2p FROM guard.explain('SELECT val FROM shifted_renamed WHERE id = 1') \gset
SELECT :n1q = :n2q AS same_query, :n1p = :n2p AS same_plan;

-- objects in a second database, created in another order: same hashes
SELECT query_hash AS x1q, plan_hash AS x1p FROM guard.explain('SELECT u.name, n.body FROM users u JOIN notes n ON n.user_id = u.id WHERE u.id = 7') \gset
SELECT current_database() AS orig_db \gset
CREATE DATABASE guard_fp_other;
\c guard_fp_other
CREATE EXTENSION guard;
CREATE TABLE filler(a int);
CREATE TABLE notes(id int PRIMARY KEY, user_id int, body text, flag bool);
CREATE INDEX notes_user ON notes(user_id);
CREATE TABLE users(id int, name text, team int);
ALTER TABLE users ADD PRIMARY KEY (id);
INSERT INTO users SELECT g, 'u' || g, g % 50 FROM generate_series(1, 5000) g;
INSERT INTO notes SELECT g, g % 5000, 'n', g % 3 = 0 FROM generate_series(1, 60000) g;
VACUUM ANALYZE users, notes;
SELECT query_hash AS x2q, plan_hash AS x2p FROM guard.explain('SELECT u.name, n.body FROM users u JOIN notes n ON n.user_id = u.id WHERE u.id = 7') \gset
SELECT :x1q = :x2q AS same_query, :x1p = :x2p AS same_plan;
\c :orig_db
DROP DATABASE guard_fp_other;
