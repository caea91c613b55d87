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


-- ---------------------------------------------------------------------
-- Enforcement and the judgment
-- ---------------------------------------------------------------------

