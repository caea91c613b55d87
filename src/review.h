/*-------------------------------------------------------------------------
 *
 * review.h
 *		The DBA's decisions as SQL functions (review.c): guard.approve,
 *		guard.reject, guard.forget, guard.approve_observed.
 *
 * Sits above the baseline (baseline.c, the cached copy and the table
 * write), the policy (policy.c, would a plan be flagged) and the store and
 * incidents (texts of observed plans): nothing below calls back into it.
 *
 * IDENTIFICATION
 *		src/review.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_REVIEW_H
#define GUARD_REVIEW_H

#include "fmgr.h"

extern PGDLLEXPORT Datum guard_approve(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum guard_reject(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum guard_forget(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum guard_approve_observed(PG_FUNCTION_ARGS);

#endif							/* GUARD_REVIEW_H */
