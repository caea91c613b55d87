/*-------------------------------------------------------------------------
 *
 * hooks.h
 *		Hook wiring (hooks.c): installs guard into the planner, executor,
 *		EXPLAIN, utility and shared-memory hooks.
 *
 * IDENTIFICATION
 *		src/hooks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_HOOKS_H
#define GUARD_HOOKS_H

#include "fingerprint.h"

extern void guard_install_hooks(void);
extern bool guard_suppress_recording;
extern GuardRelSize *guard_last_sizes;
extern int	guard_last_nsizes;
extern GuardPlanTexts *guard_build_texts(PlannedStmt *pstmt, const char *query_string,
										 int *const_locs, int nconsts,
										 const GuardRelSize *sizes, int nsizes);

#endif							/* GUARD_HOOKS_H */
