-- guard is preloaded by the temporary instance (test/fixtures/regress.conf)
CREATE EXTENSION guard;
SHOW guard.mode;
SHOW guard.track;
-- every object guard installs
SELECT pg_describe_object(classid, objid, objsubid) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'guard')
 ORDER BY 1;
-- a fixed pair: if this changes, the fingerprint rules changed and
-- GUARD_FINGERPRINT_VERSION and doc/fingerprint.md must change with them
CREATE TABLE canary(id int PRIMARY KEY, v text);
SELECT query_hash, plan_hash FROM guard.explain('SELECT v FROM canary WHERE id = 1');
DROP TABLE canary;
