--
-- Fingerprint rules 1 (make installcheck-rules1: an instance started with
-- guard.fingerprint_rules = 1, the rules of guard 0.4 and before).  Every
-- property sql/fingerprint.sql proves under the default rules 2 holds
-- under rules 1 as well: the same file runs here, with the same output.
-- Rules 1 hashes change with the major version: none is printed or pinned.
--
CREATE EXTENSION guard;
SHOW guard.fingerprint_rules;
-- superuser-only and fixed at server start
SET guard.fingerprint_rules = 2;
-- pg_regress runs psql from the source directory
\i sql/fingerprint.sql
