/* guard--0.1--0.2.sql: the baseline of approved and rejected plans */

\echo Use "ALTER EXTENSION guard UPDATE TO '0.2'" to load this file. \quit

CREATE TABLE guard.baseline (
    query_hash  bigint NOT NULL,
    plan_hash   bigint NOT NULL,
    status      text NOT NULL CHECK (status IN ('approved', 'rejected')),
    query       text,
    plan        text,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL,
    PRIMARY KEY (query_hash, plan_hash)
);

COMMENT ON TABLE guard.baseline IS
'approved and rejected plans; change it through guard.approve(), guard.reject(), guard.approve_observed()';

-- dumped by pg_dump, restored with the extension
SELECT pg_catalog.pg_extension_config_dump('guard.baseline', '');

-- every change, whatever its path, tells every backend (and standby) to
-- reload its cached copy at its next statement
CREATE FUNCTION guard.baseline_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'guard_baseline_changed'
LANGUAGE C;

CREATE TRIGGER baseline_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON guard.baseline
    FOR EACH STATEMENT EXECUTE FUNCTION guard.baseline_changed();

CREATE FUNCTION guard.approve(query_hash bigint, plan_hash bigint, note text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'guard_approve'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION guard.reject(query_hash bigint, plan_hash bigint, note text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'guard_reject'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION guard.approve_observed(note text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'guard_approve_observed'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

-- the decisions are the DBA's: superusers, or roles they grant these to
REVOKE ALL ON guard.baseline FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.approve(bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.reject(bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.approve_observed(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.baseline_changed() FROM PUBLIC;
