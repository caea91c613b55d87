--
-- guard fails open: an internal error becomes a WARNING and the statement
-- runs; an error raised while holding the store's lock leaves no lock
-- behind (the next statements would hang on it).
--
CREATE TABLE fo(id int PRIMARY KEY, v int);
INSERT INTO fo SELECT g, g FROM generate_series(1, 100) g;
SELECT guard.reset();
SET guard.debug_fault = fingerprint;
SELECT v FROM fo WHERE id = 1;
INSERT INTO fo VALUES (101, 101);
SET guard.debug_fault = store;
SELECT v FROM fo WHERE id = 2;
SELECT v FROM fo WHERE id = 3 AND v > 0;
RESET guard.debug_fault;
-- the store still works: the lock was released
SELECT v FROM fo WHERE id = 4;
SELECT count(*) FROM fo;
SELECT query, calls FROM guard.plans WHERE query LIKE '%fo%' AND query NOT LIKE '%guard%' ORDER BY query;
-- an application role cannot inject faults
CREATE ROLE guard_fo_app;
SET ROLE guard_fo_app;
SET guard.debug_fault = store;
RESET ROLE;
DROP ROLE guard_fo_app;
