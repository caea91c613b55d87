--
-- The lost-parentheses lint (reason andor_precedence): which AND/OR clauses
-- it reports, and the clause as PostgreSQL grouped it.
--
CREATE TABLE lint_t(a int, b int, c int, d text);
CREATE TABLE lint_u(a int, b int);
CREATE VIEW lint_v AS SELECT * FROM lint_t WHERE a = 1 AND b = 2 OR c = 3;

CREATE FUNCTION lint(q text) RETURNS TABLE(verdict text, reasons text[], clause text)
LANGUAGE sql AS $$ SELECT verdict, reasons, clause FROM guard.explain(q) $$;

-- the lost parentheses, written either way round
SELECT * FROM lint('SELECT * FROM lint_t WHERE a = $1 AND b = 0 OR c = 1');
SELECT * FROM lint('SELECT * FROM lint_t WHERE c = 1 OR a = $1 AND b = 0');
SELECT * FROM lint('SELECT * FROM lint_t WHERE a = 1 OR b = 2 AND c = 3 OR d = ''x''');
SELECT * FROM lint('SELECT * FROM lint_t WHERE a = 1 AND b = 2 AND c = 3 OR d IS NULL ORDER BY a');
-- parentheses around one operand do not group the AND
SELECT * FROM lint('SELECT * FROM lint_t WHERE (a) = 1 AND b = 2 OR c = 3');
-- the whole clause in parentheses is still ambiguous inside them
SELECT * FROM lint('SELECT * FROM lint_t WHERE d = ''x'' AND (a = 1 AND b = 2 OR c = 3)');

-- written with the parentheses: nothing to say
SELECT * FROM lint('SELECT * FROM lint_t WHERE a = $1 AND (b = 0 OR c = 1)');
SELECT * FROM lint('SELECT * FROM lint_t WHERE (a = $1 AND b = 0) OR c = 1');
SELECT * FROM lint('SELECT * FROM lint_t WHERE ((a = 1 AND b = 2)) OR (c = 3)');
SELECT * FROM lint('SELECT * FROM lint_t WHERE a = 1 OR b = 2');
SELECT * FROM lint('SELECT * FROM lint_t WHERE a = 1 AND b = 2');

-- AND and OR nodes that are not keywords: BETWEEN, IN lists, row comparisons
SELECT * FROM lint('SELECT * FROM lint_t WHERE a BETWEEN 1 AND 5 OR c = 3');
SELECT * FROM lint('SELECT * FROM lint_t WHERE a IN (1, b, c) AND b = 1');
SELECT * FROM lint('SELECT * FROM lint_t WHERE (a, b) = (1, 2) OR c = 3');

-- parentheses inside strings, comments and quoted names do not count
SELECT * FROM lint('SELECT * FROM lint_t WHERE d = ''('' AND a = 1 OR c = 3');
SELECT * FROM lint('SELECT * FROM lint_t /* ( */ WHERE a = 1 AND b = 2 OR c = 3');
SELECT * FROM lint('SELECT * FROM lint_t WHERE d = $x$ ) $x$ AND a = 1 OR c = 3');
SELECT * FROM lint('SELECT * FROM lint_t AS "t(" WHERE "t(".a = 1 AND b = 2 OR c = 3');

-- JOIN ... ON, HAVING, subqueries, CTEs
SELECT * FROM lint('SELECT * FROM lint_t t JOIN lint_u u ON t.a = u.a AND t.b = 1 OR u.b = 2 WHERE t.c = 0');
SELECT * FROM lint('SELECT a FROM lint_t GROUP BY a HAVING count(*) > 1 AND a = 1 OR a = 2');
SELECT * FROM lint('SELECT * FROM lint_t WHERE EXISTS (SELECT 1 FROM lint_u WHERE lint_u.a = lint_t.a AND b = 1 OR b = 2)');
SELECT * FROM lint('WITH w AS (SELECT * FROM lint_t WHERE a = 1 AND b = 2 OR c = 3) SELECT * FROM w');
SELECT * FROM lint('DELETE FROM lint_t WHERE a = 1 AND b = 2 OR c = 3 RETURNING a');
-- a CASE inside the clause
SELECT * FROM lint('SELECT * FROM lint_t WHERE CASE WHEN a = 1 THEN true END AND b = 2 OR c = 3');

-- the select list is not a WHERE clause
SELECT * FROM lint('SELECT a = 1 AND b = 2 OR c = 3 FROM lint_t');
-- a view's own definition is not this statement's text
SELECT * FROM lint('SELECT * FROM lint_v WHERE a = 5');

-- in observe mode the lint alone records an incident (action logged);
-- in warn and block mode it warns, and never blocks
SELECT guard.reset();
SET guard.mode = observe;
SELECT count(*) FROM lint_t WHERE a = 1 AND b = 2 OR c = 3;
SELECT reason, relation, action, would_action, clause, count FROM guard.incidents;
SET guard.mode = block;
SELECT count(*) FROM lint_t WHERE a = 1 AND b = 2 OR c = 3;
SET guard.mode = warn;
SELECT count(*) FROM lint_t WHERE a = 1 AND b = 2 OR c = 3;
SELECT reason, action, would_action, count FROM guard.incidents;
EXPLAIN (COSTS OFF) SELECT count(*) FROM lint_t WHERE a = 1 AND b = 2 OR c = 3;
RESET guard.mode;
DROP VIEW lint_v;
DROP TABLE lint_t, lint_u;
DROP FUNCTION lint(text);
SELECT guard.reset();
