-- statistics profiles: staging plans with production's numbers
-- (doc/statistics-profile.md)
SET guard.mode = observe;
SET guard.seqscan_min_rows = 10000;
SET guard.explain_verdict = off;	-- guard.explain shows verdicts here

-- staging: a hundred rows, where production holds a million (a schema
-- of its own: the fallbacks view lists the profile's schemas)
CREATE SCHEMA prof;
SET search_path = prof, public;
CREATE TABLE events (id int PRIMARY KEY, user_id int, kind text, created date);
CREATE INDEX events_user ON events (user_id);
CREATE INDEX events_lower_kind ON events (lower(kind));
INSERT INTO events
SELECT i, i % 10, 'k' || (i % 3), date '2026-01-01' + i FROM generate_series(1, 100) i;
ANALYZE events;

-- the planner's row estimate of a statement's top node
CREATE FUNCTION est(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;

EXPLAIN (COSTS OFF) SELECT * FROM events WHERE user_id = 42;
SELECT est('SELECT * FROM events');

-- the top plan node of a statement (EXPLAIN EXECUTE has no Guard line on 15)
CREATE FUNCTION top_node(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN j -> 0 -> 'Plan' ->> 'Node Type';
END $$;

-- production's profile, as pg_guard stats import writes it
INSERT INTO guard.stats_profile (source, server_version, exported_at)
VALUES ('prod', '15.20', '2026-11-01 12:00:00+00');
INSERT INTO guard.stats_relations VALUES
    ('prof', 'events', 'r', 1000000, 10000, 10000, 10000, NULL),
    ('prof', 'events_pkey', 'i', 1000000, 2745, 0, 2745, 2),
    ('prof', 'events_user', 'i', 1000000, 2745, 0, 2745, 2),
    ('prof', 'events_lower_kind', 'i', 1000000, 3000, 0, 3000, 2),
    ('prof', 'gone', 'r', 5, 1, 1, 1, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs,
    histogram_bounds, correlation)
VALUES
    ('prof', 'events', 'id', false, 'pg_catalog.int4', 0, 4, -1, NULL, NULL,
     (SELECT array_agg(i * 10000)::text FROM generate_series(0, 100) i), 1),
    ('prof', 'events', 'user_id', false, 'pg_catalog.int4', 0, 4, 100000, NULL, NULL,
     (SELECT array_agg(i * 1000)::text FROM generate_series(0, 100) i), 0.01),
    ('prof', 'events', 'kind', false, 'pg_catalog.text', 0, 3, 3,
     '{k1,k2,k0}', '{0.5,0.3,0.2}', NULL, 0.3),
    ('prof', 'events_lower_kind', 'lower', false, 'pg_catalog.text', 0, 3, 3,
     '{k1,k2,k0}', '{0.6,0.3,0.1}', NULL, 0.3),
    ('prof', 'events', 'created', false, 'pg_catalog.int8', 0, 4, -0.5, NULL, NULL,
     NULL, 1);
SELECT guard.stats_profile_check();

-- nothing changes while guard.stats_profile is off
SELECT est('SELECT * FROM events');

PREPARE by_user AS SELECT * FROM events WHERE user_id = 42;
SELECT top_node('EXECUTE by_user');

SET guard.stats_profile = on;
EXPLAIN (COSTS OFF) SELECT * FROM events WHERE user_id = 42;
-- a statement prepared before the switch is planned again
SELECT top_node('EXECUTE by_user');
DEALLOCATE by_user;
SELECT est('SELECT * FROM events');
SELECT est('SELECT * FROM events WHERE kind = ''k1''');
SELECT est('SELECT * FROM events WHERE lower(kind) = ''k1''');
SELECT est('SELECT * FROM events WHERE id < 100000');
SELECT verdict, seqscans, seqscan_rows, stats_profile
  FROM guard.explain('SELECT * FROM events WHERE user_id = 42 OR kind = ''k9''');

-- growth: production at ten times today's size
UPDATE guard.stats_profile SET growth = 10;
SELECT est('SELECT * FROM events');
EXPLAIN (COSTS OFF) SELECT count(*) FROM events;
UPDATE guard.stats_profile SET growth = 1;

-- what keeps staging's own statistics: a new table, a new column, a column
-- whose type changed (created: int8 in the profile, date here), a relation
-- gone from staging
CREATE TABLE newtab (a int);
ALTER TABLE events ADD COLUMN extra int;
SELECT * FROM guard.stats_profile_fallbacks WHERE schemaname = 'prof' ORDER BY 2, 3, 1 DESC, 4;
EXPLAIN (COSTS OFF) SELECT * FROM events JOIN newtab ON a = id;
SELECT est('SELECT * FROM events WHERE created = date ''2026-02-01''');
-- an index created since the export is sized from its table, and named
CREATE INDEX events_created ON events (created);
EXPLAIN (COSTS OFF) SELECT * FROM events WHERE created = date '2026-02-01';
DROP INDEX events_created;
-- a table never analyzed in production: its rows' width gives the density,
-- as the planner there computes it
CREATE TABLE fresh (a int, b text);
INSERT INTO guard.stats_relations VALUES ('prof', 'fresh', 'r', -1, 0, 0, 1000, NULL);
SELECT est('SELECT * FROM fresh');
-- an empty table never analyzed in production counts ten pages, as there
CREATE TABLE empty_never (a int, b text);
INSERT INTO guard.stats_relations VALUES ('prof', 'empty_never', 'r', -1, 0, 0, 0, NULL);
SELECT est('SELECT * FROM empty_never');
-- a growth factor below 1 leaves "never analyzed" unknown
UPDATE guard.stats_profile SET growth = 0.5;
SELECT est('SELECT * FROM fresh');
UPDATE guard.stats_profile SET growth = 1;
-- an invalid index (a failed CREATE INDEX CONCURRENTLY) has no height
CREATE TABLE dup (a int);
INSERT INTO dup VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY dup_a ON dup (a);
SELECT guard.stats_btree_height('dup_a'), guard.stats_btree_height('events_pkey');

-- a bad profile is refused, naming the value
BEGIN;
UPDATE guard.stats_columns SET most_common_freqs = '{0.5}' WHERE attname = 'kind';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET histogram_bounds = '{1}' WHERE attname = 'user_id';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET histogram_bounds = '{1,abc}' WHERE attname = 'user_id';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET histogram_bounds = '{1,NULL,3}' WHERE attname = 'user_id';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET histogram_bounds = '{{1,2},{3,4}}' WHERE attname = 'user_id';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET null_frac = 2 WHERE attname = 'user_id';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET most_common_freqs = '{0.5,0.3,1.5}' WHERE attname = 'kind';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
UPDATE guard.stats_columns SET most_common_elems = '{a}', most_common_elem_freqs = '{1,1,1,0}'
 WHERE attname = 'kind';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
INSERT INTO guard.stats_relations VALUES ('prof', 'x', 'r', -2, 1, 0, 1, NULL);
ROLLBACK;

BEGIN;
UPDATE guard.stats_columns SET most_common_vals = (SELECT array_agg(i)::text FROM generate_series(1, 100001) i),
    most_common_freqs = (SELECT array_agg(0.00001)::real[] FROM generate_series(1, 100001) i)
 WHERE attname = 'user_id';
SELECT guard.stats_profile_check();
ROLLBACK;
BEGIN;
INSERT INTO guard.stats_relations VALUES ('prof', 'x', 'r', 'NaN', 1, 0, 1, NULL);
ROLLBACK;
BEGIN;
INSERT INTO guard.stats_relations VALUES ('prof', 'x', 'r', 1, 1, 0, 1, 2147483647);
ROLLBACK;

-- a bad value that reached the table anyway: the planner falls back to
-- staging's statistics for that column, and says so in the server log only
-- (a role that renames its enum's labels must not make guard warn); the
-- statement runs
UPDATE guard.stats_columns SET histogram_bounds = '{1,abc}' WHERE attname = 'user_id';
SELECT est('SELECT * FROM events WHERE user_id < 5000');
SELECT est('SELECT * FROM events WHERE user_id < 5000');
UPDATE guard.stats_columns SET histogram_bounds =
    (SELECT array_agg(i * 1000)::text FROM generate_series(0, 100) i)
 WHERE attname = 'user_id';
SELECT est('SELECT * FROM events WHERE user_id < 5000');

-- the profile's average width is the planner's
CREATE FUNCTION width(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Width')::int;
END $$;
UPDATE guard.stats_columns SET avg_width = 500 WHERE attname = 'kind';
SELECT width('SELECT kind FROM events');
UPDATE guard.stats_columns SET avg_width = 3 WHERE attname = 'kind';
SELECT width('SELECT kind FROM events');

-- staging's extended statistics do not override production's columns
CREATE STATISTICS events_uk (mcv) ON user_id, kind FROM events;
ANALYZE events;
SELECT est('SELECT * FROM events WHERE kind = ''k1'' AND user_id < 5000');
DROP STATISTICS events_uk;

-- a column whose type changes is never read with its old statistics
-- (this crashed the server: int4 values compared as text)
CREATE TABLE typed (c int);
INSERT INTO guard.stats_relations VALUES ('prof', 'typed', 'r', 1000000, 5000, 0, 5000, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs)
VALUES ('prof', 'typed', 'c', false, 'pg_catalog.int4', 0, 4, 3, '{1,2,3}', '{0.5,0.3,0.2}');
SELECT est('SELECT * FROM typed WHERE c = 1');
ALTER TABLE typed ALTER c TYPE text;
SELECT est('SELECT * FROM typed WHERE c = ''1''');
SELECT * FROM guard.stats_profile_fallbacks WHERE relname = 'typed';

-- a column whose type holds a domain (inside a composite or an array) is
-- not read: the domain's CHECK could run anyone's code
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TYPE pair AS (k posint, n int);
CREATE TABLE held (p pair, a posint[], d posint);
INSERT INTO guard.stats_relations VALUES ('prof', 'held', 'r', 1000000, 5000, 0, 5000, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs)
VALUES ('prof', 'held', 'p', false, 'prof.pair', 0, 10, 2, '{"(1,1)","(2,2)"}', '{0.5,0.5}'),
       ('prof', 'held', 'a', false, 'prof._posint', 0, 10, 2, '{"{1}","{2}"}', '{0.5,0.5}'),
       ('prof', 'held', 'd', false, 'prof.posint', 0, 4, 2, '{1,2}', '{0.5,0.5}');
SELECT guard.stats_profile_check();
SELECT est('SELECT * FROM held WHERE d = 1');
SELECT est('SELECT * FROM held WHERE p = ''(1,1)''::pair');

-- nor through an index expression whose column is stored as a pseudo-type
-- (a GiST multirange of a range over a domain), nor through a composite
-- that gained a domain after the profile was read: the domain's CHECK,
-- here a function that says when it runs, never runs
CREATE FUNCTION spy(int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'spy ran';
    RETURN true;
END $$;
CREATE DOMAIN spied AS int CHECK (spy(VALUE));
CREATE TYPE spiedrange AS RANGE (subtype = spied);
CREATE TABLE spans2 (lo int, hi int);
CREATE INDEX spans2_mr ON spans2 USING gist (spiedmultirange(spiedrange(lo::spied, hi::spied)));
INSERT INTO guard.stats_relations VALUES ('prof', 'spans2', 'r', 1000000, 5000, 0, 5000, NULL),
    ('prof', 'spans2_mr', 'i', 1000000, 5000, 0, 5000, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, range_bounds_histogram, range_length_histogram, range_empty_frac)
SELECT 'prof', 'spans2_mr', a.attname, false, format('%I.%I', n.nspname, t.typname), 0, 10, -1,
       '{"[1,5)","[3,7)","[9,12)"}', '{1,2,3}', 0.1
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE a.attrelid = 'spans2_mr'::regclass;
SELECT atttype FROM guard.stats_columns WHERE relname = 'spans2_mr';
SELECT guard.stats_profile_check();
CREATE TYPE later_pair AS (k int, n int);
CREATE TABLE pairs (p later_pair);
INSERT INTO guard.stats_relations VALUES ('prof', 'pairs', 'r', 1000000, 5000, 0, 5000, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs)
VALUES ('prof', 'pairs', 'p', false, 'prof.later_pair', 0, 10, 2, '{"(1,1)","(2,2)"}', '{0.5,0.5}');
SELECT est('SELECT * FROM events');	-- the profile is read
ALTER TYPE later_pair DROP ATTRIBUTE n;
ALTER TYPE later_pair ADD ATTRIBUTE n spied;
SELECT est('SELECT * FROM pairs WHERE p IS NULL');

-- tsvector keeps two extra element frequencies, not three
CREATE TABLE docs (t tsvector);
INSERT INTO guard.stats_relations VALUES ('prof', 'docs', 'r', 1000000, 5000, 0, 5000, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, most_common_elems, most_common_elem_freqs)
VALUES ('prof', 'docs', 't', false, 'pg_catalog.tsvector', 0, 30, -1, '{cat,dog}', '{0.5,0.1,0.1,0.5}');
SELECT guard.stats_profile_check();
SELECT est('SELECT * FROM docs WHERE t @@ ''cat''');

-- an empty range in a bounds histogram would make every range query fail
CREATE TABLE spans (r int4range);
INSERT INTO guard.stats_relations VALUES ('prof', 'spans', 'r', 1000000, 5000, 0, 5000, NULL);
INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, atttype,
    null_frac, avg_width, n_distinct, range_bounds_histogram, range_length_histogram, range_empty_frac)
VALUES ('prof', 'spans', 'r', false, 'pg_catalog.int4range', 0, 10, -1, '{"[1,5)",empty,"[9,12)"}', '{1,2,3}', 0.1);
SELECT guard.stats_profile_check();
UPDATE guard.stats_columns SET range_bounds_histogram = '{"[1,5)","[3,7)","[9,12)"}' WHERE relname = 'spans';
SELECT guard.stats_profile_check();
SELECT est('SELECT * FROM spans WHERE r && ''[2,3)''') > 0 AS estimated;

-- a relation created under a profiled name after the import (relid 0: it
-- did not exist then) keeps its own statistics, whoever created it
INSERT INTO guard.stats_relations VALUES ('prof', 'later', 'r', 1000000, 5000, 0, 5000, NULL, 0);
CREATE TABLE later (a int);
SELECT est('SELECT * FROM later');
SELECT * FROM guard.stats_profile_fallbacks WHERE relname = 'later';

-- an application role cannot switch the profile on or off, nor read it
CREATE ROLE guard_profile_app;
GRANT SELECT ON events TO guard_profile_app;
SET ROLE guard_profile_app;
SET guard.stats_profile = off;
SHOW guard.stats_profile;
SELECT count(*) FROM guard.stats_columns;
SELECT count(*) FROM guard.stats_profile_fallbacks;
SELECT guard.stats_profile_check();
-- its plans still see production's numbers
SELECT est('SELECT * FROM events');
RESET ROLE;

-- a security barrier view hides the statistics from leaky operators, as
-- core does; the row estimate stays production's
CREATE VIEW events_app WITH (security_barrier) AS SELECT * FROM events WHERE id > 0;
SELECT est('SELECT * FROM events_app');

-- off again: staging's own numbers, no line in EXPLAIN
RESET guard.stats_profile;
EXPLAIN (COSTS OFF) SELECT * FROM events WHERE user_id = 42;
SELECT est('SELECT * FROM events');

SET client_min_messages = warning;
DROP SCHEMA prof CASCADE;
RESET client_min_messages;
RESET search_path;
DROP ROLE guard_profile_app;
DELETE FROM guard.stats_columns;
DELETE FROM guard.stats_relations;
DELETE FROM guard.stats_profile;
