/* guard 0.4 -> 0.5: across the upgrade (issue 8) */

\echo Use "ALTER EXTENSION guard UPDATE TO '0.5'" to load this file. \quit

-- ---------------------------------------------------------------------
-- Rekey: decisions carried from one set of fingerprint rules to another
-- ---------------------------------------------------------------------

-- the fingerprint rules (guard.fingerprint_rules) a decision's hashes were
-- computed under; rows written before 0.5 keep NULL, which means rules 1
ALTER TABLE guard.baseline ADD COLUMN fingerprint_rules smallint;
COMMENT ON COLUMN guard.baseline.fingerprint_rules IS
'the guard.fingerprint_rules its hashes were computed under (NULL: 1); a decision under other rules than the server''s applies by its texts until guard.rekey() files it under the new hashes';

-- the role that ran the statement, when guard knew it (guard.replan plans
-- the statement as that role, never with the caller's rights)
ALTER TABLE guard.baseline ADD COLUMN query_role name;
COMMENT ON COLUMN guard.baseline.query_role IS
'the role that ran the statement, from guard.plans or the incident; guard.replan() plans the statement as this role (NULL: unknown, decisions made before 0.5)';

-- after guard.fingerprint_rules changed: file every decision made under
-- other rules under the hashes of the plans observed since (guard.plans)
-- with the same statement text and plan shape; one row per decision and
-- plan, or per decision that concerns no observed plan
CREATE FUNCTION guard.rekey(
    OUT old_query_hash bigint,
    OUT old_plan_hash bigint,
    OUT old_rules smallint,
    OUT status text,
    OUT query text,
    OUT new_query_hash bigint,
    OUT new_plan_hash bigint,
    OUT new_status text,
    OUT carried boolean,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_rekey'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.rekey() IS
'file the decisions made under other fingerprint rules under the hashes of the plans observed since with the same texts; see carried and reason';

REVOKE ALL ON FUNCTION guard.rekey() FROM PUBLIC;
