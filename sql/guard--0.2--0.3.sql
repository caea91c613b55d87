/* guard--0.2--0.3.sql: incidents, limp mode, plan correction, the AND/OR lint */

\echo Use "ALTER EXTENSION guard UPDATE TO '0.3'" to load this file. \quit

CREATE FUNCTION guard.incidents_internal(
    OUT incident_id bigint,
    OUT dbid oid,
    OUT userid oid,
    OUT query_hash bigint,
    OUT plan_hash bigint,
    OUT reason text,
    OUT relation text,
    OUT relation_rows bigint,
    OUT action text,
    OUT would_action text,
    OUT baseline_query_hash bigint,
    OUT baseline_plan_hash bigint,
    OUT clause text,
    OUT query text,
    OUT plan text,
    OUT count bigint,
    OUT first_seen timestamptz,
    OUT last_seen timestamptz,
    OUT resolved boolean,
    OUT status text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_incidents'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION guard.incidents_internal() IS
'incidents in shared memory; read them through guard.incidents';

-- baseline_plan: the approved plan the incident's plan departs from (of the
-- same statement, or of the statement whose text differs only in
-- parentheses), from this database's guard.baseline (NULL for incidents of
-- other databases)
CREATE VIEW guard.incidents AS
  SELECT i.incident_id, i.first_seen, i.last_seen, i.count,
         d.datname AS database, r.rolname AS role,
         i.query_hash, i.plan_hash, i.reason, i.relation, i.relation_rows,
         i.action, i.baseline_plan_hash, i.query, i.plan,
         b.plan AS baseline_plan,
         i.would_action, i.clause, i.status, i.resolved,
         i.baseline_query_hash, i.dbid, i.userid
    FROM guard.incidents_internal() AS i
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = i.dbid
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = i.userid
    LEFT JOIN guard.baseline AS b
           ON d.datname = pg_catalog.current_database()
          AND b.query_hash = i.baseline_query_hash
          AND b.plan_hash = i.baseline_plan_hash;

COMMENT ON VIEW guard.incidents IS
'one row per (database, query_hash, plan_hash, reason) guard flagged; approve or reject the plan to resolve it';

-- guard.info gains the incident and limp-mode counters
DROP VIEW guard.info;
DROP FUNCTION guard.info();

CREATE FUNCTION guard.info(
    OUT plans bigint,
    OUT max_plans bigint,
    OUT evictions bigint,
    OUT text_bytes bigint,
    OUT text_limit bigint,
    OUT dropped_texts bigint,
    OUT stats_reset timestamptz,
    OUT incidents bigint,
    OUT max_incidents bigint,
    OUT incident_evictions bigint,
    OUT flagged_running integer,
    OUT throttle_waits bigint,
    OUT throttle_timeouts bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'guard_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE VIEW guard.info AS SELECT * FROM guard.info();

-- guard.explain gains the lint's finding
DROP FUNCTION guard.explain(text);

CREATE FUNCTION guard.explain(statement text,
    OUT query_hash bigint,
    OUT plan_hash bigint,
    OUT plan text,
    OUT seqscans text[],
    OUT seqscan_rows bigint[],
    OUT verdict text,
    OUT reasons text[],
    OUT clause text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_explain'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.explain(text) IS
'plan a statement without running or recording it; say what guard thinks of the plan';

REVOKE ALL ON FUNCTION guard.incidents_internal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION guard.incidents_internal() TO PUBLIC;
GRANT SELECT ON guard.incidents, guard.info TO PUBLIC;
