/* guard 0.3 -> 0.4: trust (issue 7) */

\echo Use "ALTER EXTENSION guard UPDATE TO '0.4'" to load this file. \quit

-- ---------------------------------------------------------------------
-- Review: decisions (approve, reject with expiry, forget, approve_observed)
-- ---------------------------------------------------------------------

-- a rejection may expire: after expires_at the plan is judged as undecided
ALTER TABLE guard.baseline ADD COLUMN expires_at timestamptz;
COMMENT ON COLUMN guard.baseline.expires_at IS
'a rejection''s expiry (guard.reject(..., until)): after it the plan is judged as undecided; NULL: never';
COMMENT ON TABLE guard.baseline IS
'approved and rejected plans; change it through guard.approve(), guard.reject(), guard.forget(), guard.approve_observed()';

-- guard.reject gains until (the C entry still serves 0.3's three arguments).
-- Dropping the function drops grants on it: sql-api.md says to re-grant.
DROP FUNCTION guard.reject(bigint, bigint, text);
CREATE FUNCTION guard.reject(query_hash bigint, plan_hash bigint, note text DEFAULT NULL,
                             until timestamptz DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'guard_reject'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION guard.reject(bigint, bigint, text, timestamptz) FROM PUBLIC;

CREATE FUNCTION guard.forget(query_hash bigint, plan_hash bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'guard_forget'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION guard.forget(bigint, bigint) FROM PUBLIC;

-- approve_observed adopts pre-existing sequential scans unless skip_flagged
-- (the C entry still serves 0.3's one argument, with 0.3's strict capture)
DROP FUNCTION guard.approve_observed(text);
CREATE FUNCTION guard.approve_observed(note text DEFAULT NULL, skip_flagged boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'guard_approve_observed'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION guard.approve_observed(text, boolean) FROM PUBLIC;


-- ---------------------------------------------------------------------
-- Incidents, plans and reset: masking, scoping, flood limits
-- ---------------------------------------------------------------------

-- guard.incidents: plans, relation names, clauses and the baseline plan of
-- other roles' incidents are masked like their query texts; the function
-- says whether the reader may see them (visible), for baseline_plan, which
-- the view reads from guard.baseline with its owner's rights
DROP VIEW guard.incidents;
DROP FUNCTION guard.incidents_internal();

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
    OUT status text,
    OUT visible boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_incidents'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION guard.incidents_internal() IS
'incidents in shared memory; read them through guard.incidents';

CREATE VIEW guard.incidents AS
  SELECT i.incident_id, i.first_seen, i.last_seen, i.count,
         d.datname AS database, r.rolname AS role,
         i.query_hash, i.plan_hash, i.reason, i.relation, i.relation_rows,
         i.action, i.baseline_plan_hash, i.query, i.plan,
         CASE WHEN i.visible THEN b.plan
              WHEN b.plan IS NOT NULL THEN '<insufficient privilege>'
         END AS baseline_plan,
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

REVOKE ALL ON FUNCTION guard.incidents_internal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION guard.incidents_internal() TO PUBLIC;
GRANT SELECT ON guard.incidents TO PUBLIC;

-- guard.info gains what the flood limits held back
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
    OUT throttle_timeouts bigint,
    OUT incidents_dropped bigint,
    OUT incident_alerts_suppressed bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'guard_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE VIEW guard.info AS SELECT * FROM guard.info();

GRANT SELECT ON guard.info TO PUBLIC;

-- guard.reset() is scoped like pg_stat_statements_reset(); without
-- arguments it still forgets everything
DROP FUNCTION guard.reset();

CREATE FUNCTION guard.reset(userid oid DEFAULT 0, dbid oid DEFAULT 0,
                            query_hash bigint DEFAULT 0)
RETURNS void
AS 'MODULE_PATHNAME', 'guard_reset'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.reset(oid, oid, bigint) IS
'forget the observed plans and incidents of a role, a database, a statement (0: any); with no argument, everything';

REVOKE ALL ON FUNCTION guard.reset(oid, oid, bigint) FROM PUBLIC;


-- ---------------------------------------------------------------------
-- Replan: the baseline's statements planned again on this server
-- ---------------------------------------------------------------------

-- after pg_upgrade, ANALYZE, DDL or a configuration change: one row per
-- statement of guard.baseline with a decision in force, planned again
-- (generically, recording nothing, executing nothing) and judged
CREATE FUNCTION guard.replan(
    OUT query_hash bigint,
    OUT query text,
    OUT status text,
    OUT generic boolean,
    OUT approved_plan_hash bigint,
    OUT approved_plan text,
    OUT new_query_hash bigint,
    OUT new_plan_hash bigint,
    OUT new_plan text,
    OUT new_status text,
    OUT changed boolean,
    OUT seqscans text[],
    OUT seqscan_rows bigint[],
    OUT verdict text,
    OUT reasons text[],
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_replan'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.replan() IS
'plan every statement of guard.baseline again on this server and judge the plans; see changed, verdict and error';

REVOKE ALL ON FUNCTION guard.replan() FROM PUBLIC;

