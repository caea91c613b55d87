/* guard 0.5 -> 0.6: statistics profiles (doc/statistics-profile.md) */

\echo Use "ALTER EXTENSION guard UPDATE TO '0.6'" to load this file. \quit

-- The statistics profile of a staging database: what production's planner
-- reads, imported by `pg_guard stats import`, used while guard.stats_profile
-- is on.  It holds production's data values (most common values, histogram
-- bounds): superusers only.  Not dumped by pg_dump: import it again.

-- where the profile comes from (one row, or none: no profile)
CREATE TABLE guard.stats_profile (
    source         text NOT NULL,
    server_version text,
    exported_at    timestamptz,
    imported_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    growth         float8 NOT NULL DEFAULT 1
                   CHECK (growth > 0 AND growth <= 1000000),
    one_row        boolean NOT NULL DEFAULT true UNIQUE CHECK (one_row)
);

COMMENT ON TABLE guard.stats_profile IS
'the imported statistics profile: its source, when it was exported and imported, and the growth factor applied to every size';

-- the sizes of tables and indexes, as pg_class holds them in production
CREATE TABLE guard.stats_relations (
    schemaname    name NOT NULL,
    relname       name NOT NULL,
    relkind       "char" NOT NULL CHECK (relkind IN ('r', 'm', 'p', 'i', 'I', 't', 'f')),
    reltuples     float8 NOT NULL CHECK (reltuples >= -1 AND reltuples < 'Infinity'),
    relpages      bigint NOT NULL CHECK (relpages >= 0),
    relallvisible bigint NOT NULL DEFAULT 0 CHECK (relallvisible >= 0),
    curpages      bigint CHECK (curpages >= 0),
    tree_height   integer CHECK (tree_height >= 0 AND tree_height <= 64),
    relid         oid,
    PRIMARY KEY (schemaname, relname)
);

COMMENT ON TABLE guard.stats_relations IS
'statistics profile: reltuples, relpages, relallvisible (pg_class), the size in blocks at the export and a btree''s height, per table and index of production';
COMMENT ON COLUMN guard.stats_relations.relid IS
'the relation''s OID in this database at the import (0: it did not exist); a relation created under the name since then keeps its own statistics. NULL: matched by name';

-- the column statistics, in the form of the pg_stats view
CREATE TABLE guard.stats_columns (
    schemaname             name NOT NULL,
    relname                name NOT NULL,
    attname                name NOT NULL,
    inherited              boolean NOT NULL,
    atttype                text NOT NULL,
    null_frac              real,
    avg_width              integer,
    n_distinct             real,
    most_common_vals       text,
    most_common_freqs      real[],
    histogram_bounds       text,
    correlation            real,
    most_common_elems      text,
    most_common_elem_freqs real[],
    elem_count_histogram   real[],
    range_length_histogram text,
    range_empty_frac       real,
    range_bounds_histogram text,
    PRIMARY KEY (schemaname, relname, attname, inherited)
);

COMMENT ON TABLE guard.stats_columns IS
'statistics profile: the column statistics of production (the columns of pg_stats; array values as text), and the column''s type (schema.type) when exported';

REVOKE ALL ON guard.stats_profile, guard.stats_relations, guard.stats_columns FROM PUBLIC;

-- every change tells every backend to read the profile again and re-plan
-- its cached plans (the trigger function guard.baseline uses)
CREATE TRIGGER stats_profile_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON guard.stats_profile
    FOR EACH STATEMENT EXECUTE FUNCTION guard.baseline_changed();
CREATE TRIGGER stats_relations_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON guard.stats_relations
    FOR EACH STATEMENT EXECUTE FUNCTION guard.baseline_changed();
CREATE TRIGGER stats_columns_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON guard.stats_columns
    FOR EACH STATEMENT EXECUTE FUNCTION guard.baseline_changed();

-- build every column's statistics as the planner would: an error names the
-- first value that does not load into this database
CREATE FUNCTION guard.stats_profile_check()
RETURNS bigint
AS 'MODULE_PATHNAME', 'guard_stats_profile_check'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.stats_profile_check() IS
'check that every column statistic of the profile loads into this database; returns how many columns it checked';

REVOKE ALL ON FUNCTION guard.stats_profile_check() FROM PUBLIC;

-- the height of a btree index, which the planner charges per descent
-- (read in production by pg_guard stats export)
CREATE FUNCTION guard.stats_btree_height(index regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'guard_stats_btree_height'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION guard.stats_btree_height(regclass) IS
'the height of a btree index (the level of its root); NULL for other relations';

REVOKE ALL ON FUNCTION guard.stats_btree_height(regclass) FROM PUBLIC;

-- what keeps this database's own statistics under the profile: relations
-- and columns of its user schemas that the profile lacks, that this
-- database lacks, that were created since the import, or whose type or kind
-- changed since the export (nothing without a profile)
CREATE VIEW guard.stats_profile_fallbacks AS
WITH here AS (
    SELECT c.oid, n.nspname AS schemaname, c.relname, c.relkind
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'm', 'p', 'i', 'I')
       AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'guard')
       AND n.nspname !~ '^pg_(toast_)?temp_'
       AND EXISTS (SELECT FROM guard.stats_profile)
), profile AS (
    SELECT r.* FROM guard.stats_relations r WHERE EXISTS (SELECT FROM guard.stats_profile)
), profile_columns AS (
    SELECT c.* FROM guard.stats_columns c WHERE EXISTS (SELECT FROM guard.stats_profile)
), coltypes AS (
    SELECT h.schemaname, h.relname, h.relkind, a.attname,
           pg_catalog.quote_ident(tn.nspname) OPERATOR(pg_catalog.||) '.'
           OPERATOR(pg_catalog.||) pg_catalog.quote_ident(t.typname) AS atttype
      FROM here h
      JOIN pg_catalog.pg_attribute a ON a.attrelid = h.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
)
SELECT 'relation'::text AS kind, h.schemaname, h.relname, NULL::name AS attname,
       'not in the profile'::text AS reason
  FROM here h
 WHERE NOT EXISTS (SELECT FROM profile r
                    WHERE r.schemaname = h.schemaname AND r.relname = h.relname)
UNION ALL
SELECT 'relation', r.schemaname, r.relname, NULL,
       'not in this database'
  FROM profile r
 WHERE NOT EXISTS (SELECT FROM here h
                    WHERE h.schemaname = r.schemaname AND h.relname = r.relname)
UNION ALL
SELECT 'relation', r.schemaname, r.relname, NULL,
       'created after the import'
  FROM profile r
  JOIN here h ON h.schemaname = r.schemaname AND h.relname = r.relname
 WHERE r.relid IS NOT NULL AND r.relid <> h.oid
UNION ALL
SELECT 'relation', r.schemaname, r.relname, NULL,
       'kind changed: ' OPERATOR(pg_catalog.||) r.relkind::pg_catalog.text OPERATOR(pg_catalog.||)
       ' in the profile, ' OPERATOR(pg_catalog.||) h.relkind::pg_catalog.text OPERATOR(pg_catalog.||) ' here'
  FROM profile r
  JOIN here h ON h.schemaname = r.schemaname AND h.relname = r.relname
 WHERE (r.relkind IN ('i', 'I')) <> (h.relkind IN ('i', 'I'))
UNION ALL
SELECT 'column', ct.schemaname, ct.relname, ct.attname,
       'not in the profile'
  FROM coltypes ct
 WHERE ct.relkind NOT IN ('i', 'I', 'p')
   AND EXISTS (SELECT FROM profile r
                WHERE r.schemaname = ct.schemaname AND r.relname = ct.relname)
   AND NOT EXISTS (SELECT FROM profile_columns sc
                    WHERE sc.schemaname = ct.schemaname AND sc.relname = ct.relname
                      AND sc.attname = ct.attname)
UNION ALL
SELECT 'column', sc.schemaname, sc.relname, sc.attname,
       'type changed: ' OPERATOR(pg_catalog.||) sc.atttype OPERATOR(pg_catalog.||)
       ' in the profile, ' OPERATOR(pg_catalog.||) ct.atttype OPERATOR(pg_catalog.||) ' here'
  FROM profile_columns sc
  JOIN coltypes ct ON ct.schemaname = sc.schemaname AND ct.relname = sc.relname
                  AND ct.attname = sc.attname
 WHERE ct.atttype <> sc.atttype AND NOT sc.inherited
UNION ALL
SELECT 'column', sc.schemaname, sc.relname, sc.attname,
       'not in this database'
  FROM profile_columns sc
 WHERE NOT sc.inherited
   AND EXISTS (SELECT FROM here h
                WHERE h.schemaname = sc.schemaname AND h.relname = sc.relname)
   AND NOT EXISTS (SELECT FROM coltypes ct
                    WHERE ct.schemaname = sc.schemaname AND ct.relname = sc.relname
                      AND ct.attname = sc.attname);

COMMENT ON VIEW guard.stats_profile_fallbacks IS
'relations and columns that keep this database''s own statistics under the statistics profile, and why';

REVOKE ALL ON guard.stats_profile_fallbacks FROM PUBLIC;

-- guard.explain says when the plan was made under a statistics profile
DROP FUNCTION guard.explain(text);

CREATE FUNCTION guard.explain(statement text,
    OUT query_hash bigint,
    OUT plan_hash bigint,
    OUT plan text,
    OUT seqscans text[],
    OUT seqscan_rows bigint[],
    OUT verdict text,
    OUT reasons text[],
    OUT clause text,
    OUT stats_profile text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_explain'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.explain(text) IS
'plan a statement without running or recording it; say what guard thinks of the plan, and whether it was planned under a statistics profile';

-- guard.plans says which plans were made under a statistics profile (a
-- new column at the end: views built on guard.plans keep working)
CREATE FUNCTION guard.plans_internal_v2(showtext boolean,
    OUT dbid oid,
    OUT userid oid,
    OUT queryid bigint,
    OUT query_hash bigint,
    OUT plan_hash bigint,
    OUT query text,
    OUT plan text,
    OUT seqscans text[],
    OUT seqscan_rows bigint[],
    OUT status text,
    OUT calls bigint,
    OUT generic_calls bigint,
    OUT custom_calls bigint,
    OUT first_seen timestamptz,
    OUT last_seen timestamptz,
    OUT stats_profile boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_plans'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION guard.plans_internal_v2(boolean) IS
'observed plans; showtext => false skips the texts (cheap)';

CREATE OR REPLACE VIEW guard.plans AS
  SELECT d.datname AS database, p.dbid, p.userid, p.queryid,
         p.query_hash, p.plan_hash, p.query, p.plan,
         p.seqscans, p.seqscan_rows, p.status,
         p.calls, p.generic_calls, p.custom_calls,
         p.first_seen, p.last_seen, p.stats_profile
    FROM guard.plans_internal_v2(true) AS p
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = p.dbid;

REVOKE ALL ON FUNCTION guard.plans_internal_v2(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION guard.plans_internal_v2(boolean) TO PUBLIC;

-- Citus: one review queue for the cluster, from the coordinator.  Each
-- node keeps its own incidents and baseline (guard.baseline is not a
-- distributed table); these functions read and decide on every node
-- through Citus's run_command_on_all_nodes, as the calling role.
CREATE FUNCTION guard.cluster_incidents(OUT node text, OUT incident guard.incidents)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF pg_catalog.to_regprocedure('pg_catalog.run_command_on_all_nodes(text,boolean,boolean)') IS NULL THEN
        RAISE EXCEPTION 'guard.cluster_incidents() needs Citus'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Without Citus, read guard.incidents.';
    END IF;
    FOR r IN
        SELECT n.nodename OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) n.nodeport AS node,
               c.success, c.result
          FROM pg_catalog.run_command_on_all_nodes(
                 'SELECT COALESCE(pg_catalog.json_agg(i), ''[]'') FROM guard.incidents i') c
          JOIN pg_catalog.pg_dist_node n ON n.nodeid = c.nodeid
         ORDER BY n.nodeid
    LOOP
        IF NOT r.success THEN
            RAISE WARNING 'guard could not read the incidents of node %: %', r.node, r.result;
            CONTINUE;
        END IF;
        RETURN QUERY
            SELECT r.node, pg_catalog.json_populate_record(NULL::guard.incidents, j)
              FROM pg_catalog.json_array_elements(r.result::pg_catalog.json) j;
    END LOOP;
END $$;

COMMENT ON FUNCTION guard.cluster_incidents() IS
'Citus: the incidents of every node of the cluster (node host:port, and the incident as guard.incidents shows it there)';

CREATE FUNCTION guard.cluster_decide(command text,
    OUT node text, OUT success boolean, OUT result text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.to_regprocedure('pg_catalog.run_command_on_all_nodes(text,boolean,boolean)') IS NULL THEN
        RAISE EXCEPTION 'guard''s cluster functions need Citus'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Without Citus, call guard.approve or guard.reject.';
    END IF;
    RETURN QUERY
        SELECT n.nodename OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) n.nodeport, c.success, c.result
          FROM pg_catalog.run_command_on_all_nodes(command) c
          JOIN pg_catalog.pg_dist_node n ON n.nodeid = c.nodeid
         ORDER BY n.nodeid;
END $$;

REVOKE ALL ON FUNCTION guard.cluster_decide(text) FROM PUBLIC;

CREATE FUNCTION guard.cluster_approve(query_hash bigint, plan_hash bigint, note text DEFAULT NULL,
    OUT node text, OUT success boolean, OUT result text)
RETURNS SETOF record
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM guard.cluster_decide(pg_catalog.format('SELECT guard.approve(%s, %s, %L)',
                                                          query_hash, plan_hash, note))
$$;

CREATE FUNCTION guard.cluster_reject(query_hash bigint, plan_hash bigint, note text DEFAULT NULL,
    until timestamptz DEFAULT NULL,
    OUT node text, OUT success boolean, OUT result text)
RETURNS SETOF record
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- the expiry as every node reads it alike: ISO, UTC
    SELECT * FROM guard.cluster_decide(pg_catalog.format('SELECT guard.reject(%s, %s, %L, %L)',
        query_hash, plan_hash, note,
        CASE WHEN NOT pg_catalog.isfinite(until) THEN until::pg_catalog.text
             ELSE pg_catalog.to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
                  OPERATOR(pg_catalog.||) '+00' END))
$$;

COMMENT ON FUNCTION guard.cluster_approve(bigint, bigint, text) IS
'Citus: guard.approve on every node of the cluster; one row per node with its outcome';
COMMENT ON FUNCTION guard.cluster_reject(bigint, bigint, text, timestamptz) IS
'Citus: guard.reject on every node of the cluster; one row per node with its outcome';

REVOKE ALL ON FUNCTION guard.cluster_approve(bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.cluster_reject(bigint, bigint, text, timestamptz) FROM PUBLIC;
