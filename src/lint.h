/*-------------------------------------------------------------------------
 *
 * lint.h
 *		The lost-parentheses lint (lint.c): WHERE clauses that mix AND and
 *		OR without parentheses between them, as written in the source.
 *
 * IDENTIFICATION
 *		src/lint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_LINT_H
#define GUARD_LINT_H

#include "nodes/parsenodes.h"

/* Longest clause text guard keeps or prints, in bytes */
#define GUARD_CLAUSE_MAX	1024

/* Statements longer than this, in bytes, are not linted */
#define GUARD_LINT_MAX_TEXT	(1024 * 1024)

extern char *guard_lint_andor(Query *query, const char *query_string);

#endif							/* GUARD_LINT_H */
