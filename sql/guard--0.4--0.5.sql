/* guard 0.4 -> 0.5: across the upgrade (issue 8) */

\echo Use "ALTER EXTENSION guard UPDATE TO '0.5'" to load this file. \quit

-- ---------------------------------------------------------------------
-- Rekey: decisions carried from one set of fingerprint rules to another
-- ---------------------------------------------------------------------

-- the fingerprint rules (guard.fingerprint_rules) a decision's hashes were
-- computed under; rows written before 0.5 keep NULL, which means rules 1
ALTER TABLE guard.baseline ADD COLUMN fingerprint_rules smallint;
COMMENT ON COLUMN guard.baseline.fingerprint_rules IS
'the guard.fingerprint_rules its hashes were computed under; NULL: 1. Decisions under other rules are not applied until guard.rekey() carries them';

-- after guard.fingerprint_rules changed: re-plan the statement of every
-- decision made under other rules and carry the decision to the new hashes
-- when the plan is the same; one row per such decision
CREATE FUNCTION guard.rekey(
    OUT old_query_hash bigint,
    OUT old_plan_hash bigint,
    OUT old_rules smallint,
    OUT status text,
    OUT query text,
    OUT new_query_hash bigint,
    OUT new_plan_hash bigint,
    OUT carried boolean,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'guard_rekey'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION guard.rekey() IS
'carry the decisions made under other fingerprint rules to the hashes of the rules in force; see carried and reason';

REVOKE ALL ON FUNCTION guard.rekey() FROM PUBLIC;
