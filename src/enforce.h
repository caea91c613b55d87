/*-------------------------------------------------------------------------
 *
 * enforce.h
 *		Enforcement (enforce.c): at ExecutorStart, read the plan's
 *		fingerprint and judgment, count the execution, record incidents,
 *		and do what guard.mode says (log, warn, throttle, block).  Also the
 *		EXPLAIN line, from the same judgment.
 *
 * IDENTIFICATION
 *		src/enforce.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_ENFORCE_H
#define GUARD_ENFORCE_H

#include "executor/execdesc.h"

#include "judge.h"

extern void guard_enforce(QueryDesc *queryDesc, int eflags, bool tracked);
extern char *guard_explain_line(PlannedStmt *plan);
extern void guard_enforce_corrected(const GuardFingerprint *bad,
									const GuardJudgment *bad_judgment,
									const GuardFingerprint *good,
									const char *query);
extern bool guard_enforcing_here(void);
extern GuardAction guard_mode_action(uint32 flags);
extern GuardAction guard_block_action(uint32 flags);

#endif							/* GUARD_ENFORCE_H */
