/*-------------------------------------------------------------------------
 *
 * replan.h
 *		guard.replan() (replan.c): plan every statement of this database's
 *		baseline again, on this server as it is now, and report the plans
 *		that changed.
 *
 * Sits above the baseline (baseline.c), the plan-time pipeline (judge.c,
 * called explicitly, recording nothing) and the policy (policy.c): nothing
 * below calls back into it.
 *
 * IDENTIFICATION
 *		src/replan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_REPLAN_H
#define GUARD_REPLAN_H

#include "fmgr.h"

extern PGDLLEXPORT Datum guard_replan(PG_FUNCTION_ARGS);

#endif							/* GUARD_REPLAN_H */
