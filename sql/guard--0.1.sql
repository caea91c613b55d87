/* guard--0.1.sql: observed plans and their portable fingerprints */

\echo Use "CREATE EXTENSION guard" to load this file. \quit

CREATE FUNCTION guard.plans_internal(showtext boolean,
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
    OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_plans'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION guard.plans_internal(boolean) IS
'observed plans; showtext => false skips the texts (cheap)';

CREATE VIEW guard.plans AS
  SELECT d.datname AS database, p.dbid, p.userid, p.queryid,
         p.query_hash, p.plan_hash, p.query, p.plan,
         p.seqscans, p.seqscan_rows, p.status,
         p.calls, p.generic_calls, p.custom_calls,
         p.first_seen, p.last_seen
    FROM guard.plans_internal(true) AS p
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = p.dbid;

COMMENT ON VIEW guard.plans IS
'one row per observed (database, query_hash, plan_hash)';

CREATE FUNCTION guard.info(
    OUT plans bigint,
    OUT max_plans bigint,
    OUT evictions bigint,
    OUT text_bytes bigint,
    OUT text_limit bigint,
    OUT dropped_texts bigint,
    OUT stats_reset timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'guard_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE VIEW guard.info AS SELECT * FROM guard.info();

CREATE FUNCTION guard.explain(statement text,
    OUT query_hash bigint,
    OUT plan_hash bigint,
    OUT plan text,
    OUT seqscans text[],
    OUT seqscan_rows bigint[],
    OUT verdict text,
    OUT reasons text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_explain'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.explain(text) IS
'plan a statement without running or recording it; say what guard thinks of the plan';

CREATE FUNCTION guard.reset()
RETURNS void
AS 'MODULE_PATHNAME', 'guard_reset'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

REVOKE ALL ON FUNCTION guard.reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.plans_internal(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION guard.plans_internal(boolean) TO PUBLIC;
GRANT USAGE ON SCHEMA guard TO PUBLIC;
GRANT SELECT ON guard.plans, guard.info TO PUBLIC;
